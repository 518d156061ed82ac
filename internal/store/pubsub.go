package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// SQLiteSchema is watermill-sql's SchemaAdapter for SQLite: one table per topic,
// `watermill_<topic>`, whose AUTOINCREMENT offset is the delivery order.
//
// SQLite has one writer at a time and a reader sees only committed rows, so an offset is
// visible only after every smaller offset has been committed or rolled back: a consumer
// that remembers the last offset it acked never skips a message, without PostgreSQL's
// transaction-id bookkeeping.
type SQLiteSchema struct {
	// SubscribeBatchSize is how many messages one consumer transaction reads
	// (default 100). A crash redelivers the batch; handlers that write through the
	// consumer's transaction roll back with it, so nothing is doubled.
	SubscribeBatchSize int
}

func quoteTable(prefix, topic string) string { return `"` + prefix + topic + `"` }

// MessagesTable is the table holding topic's messages.
func (s SQLiteSchema) MessagesTable(topic string) string { return quoteTable("watermill_", topic) }

func (s SQLiteSchema) SchemaInitializingQueries(topic string) []wmsql.Query {
	return []wmsql.Query{{Query: `CREATE TABLE IF NOT EXISTS ` + s.MessagesTable(topic) + ` (
		"offset"   INTEGER PRIMARY KEY AUTOINCREMENT,
		uuid       TEXT NOT NULL,
		created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
		payload    BLOB,
		metadata   TEXT
	)`}}
}

func (s SQLiteSchema) InsertQuery(topic string, msgs message.Messages) (wmsql.Query, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + s.MessagesTable(topic) + ` (uuid, payload, metadata) VALUES `)
	args := make([]any, 0, 3*len(msgs))
	for i, msg := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?)")
		md, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wmsql.Query{}, fmt.Errorf("marshalling metadata of message %s: %w", msg.UUID, err)
		}
		args = append(args, msg.UUID, []byte(msg.Payload), string(md))
	}
	return wmsql.Query{Query: b.String(), Args: args}, nil
}

func (s SQLiteSchema) batchSize() int {
	if s.SubscribeBatchSize <= 0 {
		return 100
	}
	return s.SubscribeBatchSize
}

func (s SQLiteSchema) SelectQuery(topic string, consumerGroup string, offsets wmsql.OffsetsAdapter) wmsql.Query {
	next := offsets.NextOffsetQuery(topic, consumerGroup)
	q := `SELECT "offset", uuid, payload, metadata FROM ` + s.MessagesTable(topic) +
		` WHERE "offset" > COALESCE((` + next.Query + `), 0) ORDER BY "offset" ASC LIMIT ` + strconv.Itoa(s.batchSize())
	return wmsql.Query{Query: q, Args: next.Args}
}

func (s SQLiteSchema) UnmarshalMessage(row wmsql.Scanner) (wmsql.Row, error) {
	var r wmsql.Row
	var uuid string
	var md sql.NullString
	if err := row.Scan(&r.Offset, &uuid, &r.Payload, &md); err != nil {
		return wmsql.Row{}, fmt.Errorf("scanning a message row: %w", err)
	}
	r.UUID = []byte(uuid)
	msg := message.NewMessage(uuid, r.Payload)
	if md.Valid && md.String != "" {
		if err := json.Unmarshal([]byte(md.String), &msg.Metadata); err != nil {
			return wmsql.Row{}, fmt.Errorf("decoding the metadata of message %s: %w", uuid, err)
		}
	}
	r.Msg = msg
	return r, nil
}

// SubscribeIsolationLevel: SQLite transactions are serializable; the driver ignores the
// level, the store's BEGIN IMMEDIATE takes the write lock up front.
func (s SQLiteSchema) SubscribeIsolationLevel() sql.IsolationLevel { return sql.LevelSerializable }

// SQLiteOffsets is watermill-sql's OffsetsAdapter for SQLite: the last acked offset per
// consumer group, in `watermill_offsets_<topic>`.
type SQLiteOffsets struct{}

// OffsetsTable is the table holding topic's consumer-group offsets.
func (SQLiteOffsets) OffsetsTable(topic string) string {
	return quoteTable("watermill_offsets_", topic)
}

func (a SQLiteOffsets) SchemaInitializingQueries(topic string) []wmsql.Query {
	return []wmsql.Query{{Query: `CREATE TABLE IF NOT EXISTS ` + a.OffsetsTable(topic) + ` (
		consumer_group TEXT NOT NULL PRIMARY KEY,
		offset_acked   INTEGER NOT NULL
	)`}}
}

func (a SQLiteOffsets) AckMessageQuery(topic string, row wmsql.Row, consumerGroup string) wmsql.Query {
	return wmsql.Query{
		Query: `INSERT INTO ` + a.OffsetsTable(topic) + ` (consumer_group, offset_acked) VALUES (?, ?)
			ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked`,
		Args: []any{consumerGroup, row.Offset},
	}
}

func (a SQLiteOffsets) ConsumedMessageQuery(string, wmsql.Row, string, []byte) wmsql.Query {
	return wmsql.Query{}
}

func (a SQLiteOffsets) NextOffsetQuery(topic, consumerGroup string) wmsql.Query {
	return wmsql.Query{
		Query: `SELECT offset_acked FROM ` + a.OffsetsTable(topic) + ` WHERE consumer_group = ?`,
		Args:  []any{consumerGroup},
	}
}

func (a SQLiteOffsets) BeforeSubscribingQueries(topic, consumerGroup string) []wmsql.Query {
	return []wmsql.Query{{
		Query: `INSERT INTO ` + a.OffsetsTable(topic) + ` (consumer_group, offset_acked) VALUES (?, 0) ON CONFLICT DO NOTHING`,
		Args:  []any{consumerGroup},
	}}
}

// SubscriberConfig tunes a consumer.
type SubscriberConfig struct {
	ConsumerGroup string
	// BatchSize is how many messages one consumer transaction reads (default 100).
	BatchSize int
	// PollInterval is how long an idle consumer waits before looking again (default 50ms).
	PollInterval time.Duration
	// AckDeadline is how long one message may take before it is nacked (default 30s).
	AckDeadline time.Duration
}

// Schema is the watermill-sql schema adapter for this dialect with the given batch size.
func (s *Store) Schema(batchSize int) wmsql.SchemaAdapter {
	switch sc := s.schema.(type) {
	case SQLiteSchema:
		sc.SubscribeBatchSize = batchSize
		return sc
	case PostgresSchema:
		sc.SubscribeBatchSize = batchSize
		return sc
	}
	return s.schema
}

// Offsets is the watermill-sql offsets adapter for this dialect.
func (s *Store) Offsets() wmsql.OffsetsAdapter { return s.offsets }

// Publisher returns a publisher that writes through exec: a *sql.Tx to publish as part
// of that transaction, or the write pool. It does not create tables: call InitTopics
// first.
func (s *Store) Publisher(exec wmsql.ContextExecutor) (message.Publisher, error) {
	return wmsql.NewPublisher(exec, wmsql.PublisherConfig{SchemaAdapter: s.schema}, nil)
}

// Subscriber returns a consumer of the write pool. Each message's context carries the
// consumer's transaction (wmsql.TxFromContext); everything a handler writes through it
// commits together with the ack.
func (s *Store) Subscriber(cfg SubscriberConfig, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	ack := cfg.AckDeadline
	if ack <= 0 {
		ack = 30 * time.Second
	}
	return wmsql.NewSubscriber(s.db, wmsql.SubscriberConfig{
		ConsumerGroup:  cfg.ConsumerGroup,
		AckDeadline:    &ack,
		PollInterval:   cfg.PollInterval,
		ResendInterval: 100 * time.Millisecond,
		RetryInterval:  time.Second,
		SchemaAdapter:  s.Schema(cfg.BatchSize),
		OffsetsAdapter: s.offsets,
	}, logger)
}

// InitTopics creates the message and offsets tables of each topic if missing.
func (s *Store) InitTopics(ctx context.Context, topics ...string) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		for _, topic := range topics {
			if err := ValidateTopic(topic); err != nil {
				return err
			}
			qs := append(s.schema.SchemaInitializingQueries(topic), s.offsets.SchemaInitializingQueries(topic)...)
			for _, q := range qs {
				if _, err := tx.ExecContext(ctx, q.Query, q.Args...); err != nil {
					return fmt.Errorf("creating the tables of topic %s: %w", topic, err)
				}
			}
		}
		return nil
	})
}

// ValidateTopic checks a topic name against what the SQL transport accepts
// (letters, digits and - $ : . _).
func ValidateTopic(topic string) error {
	if topic == "" {
		return fmt.Errorf("topic name is empty")
	}
	for _, r := range topic {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-$:._", r):
		default:
			return fmt.Errorf("topic %q: character %q is not allowed (letters, digits and - $ : . _ only)", topic, r)
		}
	}
	return nil
}

// MessagesTable is the SQL table (quoted) behind topic, for queries that inspect a topic.
func (s *Store) MessagesTable(topic string) string {
	if s.dialect == Postgres {
		return wmsql.DefaultPostgreSQLSchema{}.MessagesTable(topic)
	}
	return SQLiteSchema{}.MessagesTable(topic)
}

// PostgresSchema is watermill-sql's PostgreSQL schema with binary payloads (raw EDI,
// CSV and XML are not JSON) and serialised table creation: PostgreSQL's CREATE TABLE IF
// NOT EXISTS is not safe against a concurrent twin (two sessions can each fail on the
// other's catalog rows, and neither table survives), as when two hub instances start
// together or two subscribers of a new topic initialise it at once.
type PostgresSchema struct {
	// SubscribeBatchSize is how many messages one consumer transaction reads (default 100).
	SubscribeBatchSize int
}

func (s PostgresSchema) base() wmsql.DefaultPostgreSQLSchema {
	return wmsql.DefaultPostgreSQLSchema{
		GeneratePayloadType: func(string) string { return "BYTEA" },
		SubscribeBatchSize:  s.SubscribeBatchSize,
	}
}

func (s PostgresSchema) SchemaInitializingQueries(topic string) []wmsql.Query {
	return raceFree(s.base().SchemaInitializingQueries(topic))
}
func (s PostgresSchema) InsertQuery(topic string, msgs message.Messages) (wmsql.Query, error) {
	return s.base().InsertQuery(topic, msgs)
}
func (s PostgresSchema) SelectQuery(topic, group string, o wmsql.OffsetsAdapter) wmsql.Query {
	return s.base().SelectQuery(topic, group, o)
}
func (s PostgresSchema) UnmarshalMessage(row wmsql.Scanner) (wmsql.Row, error) {
	return s.base().UnmarshalMessage(row)
}
func (s PostgresSchema) SubscribeIsolationLevel() sql.IsolationLevel {
	return s.base().SubscribeIsolationLevel()
}

// PostgresOffsets is watermill-sql's PostgreSQL offsets adapter with serialised table
// creation (see PostgresSchema).
type PostgresOffsets struct {
	wmsql.DefaultPostgreSQLOffsetsAdapter
}

func (a PostgresOffsets) SchemaInitializingQueries(topic string) []wmsql.Query {
	return raceFree(a.DefaultPostgreSQLOffsetsAdapter.SchemaInitializingQueries(topic))
}

// raceFree runs each argument-less DDL statement under a transaction-scoped advisory
// lock, so that concurrent table creations happen one after the other.
// ddlLockKey is the advisory lock key of the hub's DDL (an arbitrary constant).
const ddlLockKey = "7411902345"

func raceFree(qs []wmsql.Query) []wmsql.Query {
	out := make([]wmsql.Query, len(qs))
	for i, q := range qs {
		if len(q.Args) > 0 {
			out[i] = q
			continue
		}
		body := strings.TrimRight(strings.TrimSpace(q.Query), ";")
		out[i] = wmsql.Query{Query: `DO $paklog$ BEGIN PERFORM pg_advisory_xact_lock(` + ddlLockKey + `); ` + body + `; END $paklog$`}
	}
	return out
}

// OffsetsTable is the SQL table (quoted) holding topic's consumer-group offsets.
func (s *Store) OffsetsTable(topic string) string {
	if s.dialect == Postgres {
		return wmsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)
	}
	return SQLiteOffsets{}.OffsetsTable(topic)
}

// AckedOffset is the last offset consumer group acked on topic (0 if none), read from
// the read pool without a lock: a hint for readers that run ahead of the consumer.
func (s *Store) AckedOffset(ctx context.Context, topic, group string) (int64, error) {
	var n sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, s.Rebind(`SELECT offset_acked FROM `+s.OffsetsTable(topic)+` WHERE consumer_group = ?`), group).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n.Int64, err
}

// MessagesAfter reads up to limit committed messages of topic with an offset above
// after, in offset order, from the read pool. It is for reading ahead of a consumer:
// on PostgreSQL a message with a smaller offset can commit later and is then not
// returned by a read that already passed it.
func (s *Store) MessagesAfter(ctx context.Context, topic string, after int64, limit int) ([]wmsql.Row, error) {
	cols := `"offset", uuid, payload, metadata`
	if s.dialect == Postgres {
		cols = `"offset", transaction_id, uuid, payload, metadata`
	}
	rows, err := s.rdb.QueryContext(ctx, s.Rebind(`SELECT `+cols+` FROM `+s.MessagesTable(topic)+
		` WHERE "offset" > ? ORDER BY "offset" LIMIT `+strconv.Itoa(limit)), after)
	if err != nil {
		return nil, fmt.Errorf("reading topic %s after offset %d: %w", topic, after, err)
	}
	defer rows.Close()
	var out []wmsql.Row
	for rows.Next() {
		r, err := s.schema.UnmarshalMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
