module github.com/paklog/integration-hub/bench/x12compare

go 1.26.8

require (
	github.com/jf-tech/omniparser v1.0.5
	github.com/paklog/integration-hub v0.0.0
)

require (
	github.com/antchfx/xpath v1.1.11 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/golang-lru v0.5.4 // indirect
	github.com/jf-tech/go-corelib v0.0.14 // indirect
	github.com/tkuchiki/go-timezone v0.2.0 // indirect
	github.com/xeipuuv/gojsonpointer v0.0.0-20180127040702-4e3ac2762d5f // indirect
	github.com/xeipuuv/gojsonreference v0.0.0-20180127040603-bd5ef7bd5415 // indirect
	github.com/xeipuuv/gojsonschema v1.2.0 // indirect
	golang.org/x/net v0.0.0-20220722155237-a158d28d115b // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/paklog/integration-hub => ../..
