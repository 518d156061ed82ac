package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// ediStream writes one interchange holding sets 850s of about 10 KB each, valid
// against the hub's 004010 tables, without holding more than one set in memory.
func ediStream(w io.Writer, sets int) (int64, error) {
	var total int64
	write := func(s string) error {
		n, err := io.WriteString(w, s)
		total += int64(n)
		return err
	}
	if err := write("ISA*00*          *00*          *ZZ*PARTNER        *ZZ*PAKLOG         *261121*1200*U*00401*000000001*0*P*>~\n" +
		"GS*PO*PARTNER*PAKLOG*20261121*1200*1*X*004010~\n"); err != nil {
		return total, err
	}
	var lines strings.Builder
	const perSet = 250
	for i := 1; i <= perSet; i++ {
		fmt.Fprintf(&lines, "PO1*%d*%d*EA*12.50**VP*SKU-%05d*BP*B-%05d~\n", i, 1+i%7, i, i)
	}
	body := lines.String()
	for n := 1; n <= sets; n++ {
		ctl := fmt.Sprintf("%09d", n)
		set := "ST*850*" + ctl + "~\nBEG*00*SA*PO-" + ctl + "**20261121~\nN1*ST*RECEIVING DOCK*92*0042~\nN3*4500 DISTRIBUTION WAY~\nN4*RENO*NV*89502*US~\n" +
			body + fmt.Sprintf("CTT*%d~\nSE*%d*%s~\n", perSet, perSet+7, ctl)
		if err := write(set); err != nil {
			return total, err
		}
	}
	err := write(fmt.Sprintf("GE*%d*1~\nIEA*1*000000001~\n", sets))
	return total, err
}

func TestEDIStreamSample(t *testing.T) {
	var b bytes.Buffer
	if _, err := ediStream(&b, 3); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "edi", "validate", "-")
	cmd.Env = append(os.Environ(), "PAKLOG_TEST_CHILD=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &b, &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("the generated sample is not valid: %v\n%s%s", err, out.String(), errOut.String())
	}
}

// `paklog edi validate -` reads a generated 1 GB interchange of 100,000 sets from a
// pipe, validates envelopes and set content, and its peak RSS stays under 100 MB.
func TestEDIValidateOneGigabyteBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GB; run without -short")
	}
	const sets = 100_000
	cmd := exec.Command(os.Args[0], "edi", "validate", "-")
	cmd.Env = append(os.Environ(), "PAKLOG_TEST_CHILD=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	written, werr := ediStream(stdin, sets)
	stdin.Close()
	err = cmd.Wait()
	if werr != nil {
		t.Fatalf("writing the stream: %v\n%s", werr, errOut.String())
	}
	if err != nil {
		t.Fatalf("paklog edi validate: %v\n%s%s", err, out.String(), errOut.String())
	}
	if written < 1<<30 {
		t.Fatalf("the stream is %d bytes, want at least 1 GiB", written)
	}
	if want := fmt.Sprintf("%d set(s): valid", sets); !strings.Contains(out.String(), want) {
		t.Fatalf("output %q lacks %q", out.String(), want)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no resource usage for the child")
	}
	peak := ru.Maxrss * 1024 // Linux reports KiB
	t.Logf("validated %.2f GiB in %d sets; peak RSS %.1f MiB", float64(written)/(1<<30), sets, float64(peak)/(1<<20))
	if peak > 100<<20 {
		t.Fatalf("peak RSS %.1f MiB, want under 100 MiB", float64(peak)/(1<<20))
	}
}
