package as2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// For a partner whose receipts are unsigned, anyone who guesses a Message-ID
// can post an MDN for it. An unsigned negative MDN settles nothing, nor does an
// unsigned positive one whose Received-Content-MIC is not ours; the send stays
// pending, and the partner's real MDN (with our MIC) still settles it.
func TestUnsignedAsyncMDNMustProveItself(t *testing.T) {
	pe := newPeer(t)
	p := pe.profile(t)
	p.SignedMDN = false
	pending := NewMemoryPending()
	s := newSender(t, Config{Pending: pending, Profiles: func(context.Context, string, string) (*Profile, error) { return p, nil }})
	sum := sha256.Sum256([]byte("what we sent"))
	mic := edias2.MIC{Digest: edias2.SHA256, Value: sum[:]}
	const id = "<997_000000001.edi.acme@PAKLOG>"
	now := time.Now()
	if err := pending.Save(context.Background(), Pending{MessageID: id, Partner: "ACME", MIC: mic, SentAt: now, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	post := func(procErr error, m edias2.MIC) (*Result, error) {
		t.Helper()
		msg := &edias2.Message{MessageID: id, From: "PAKLOG", To: "ACME", MIC: m, MDN: edias2.MDNRequest{Mode: edias2.MDNAsync}}
		mdn, err := edias2.BuildMDN(msg, procErr, edias2.MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.HandleAsyncMDN(context.Background(), mdn.Header, bytes.NewReader(mdn.Body))
	}
	forged := &edias2.Error{Modifier: edias2.DecryptionFailed, Op: "decrypting", Err: errors.New("forged")}
	if res, err := post(forged, edias2.MIC{}); res != nil || !errors.Is(err, ErrUnprovenMDN) {
		t.Fatalf("unsigned negative MDN: result %+v, error %v; want refused with ErrUnprovenMDN", res, err)
	}
	other := sha256.Sum256([]byte("something else"))
	if res, err := post(nil, edias2.MIC{Digest: edias2.SHA256, Value: other[:]}); res != nil || !errors.Is(err, ErrUnprovenMDN) {
		t.Fatalf("unsigned positive MDN with another MIC: result %+v, error %v; want refused with ErrUnprovenMDN", res, err)
	}
	if pending.Len() != 1 {
		t.Fatalf("%d sends pending after the unproven MDNs; want 1", pending.Len())
	}
	res, err := post(nil, mic)
	if err != nil || res == nil || res.Status != StatusDelivered {
		t.Fatalf("the partner's MDN: result %+v, error %v; want delivered", res, err)
	}
	if pending.Len() != 0 {
		t.Fatalf("%d sends pending after the real MDN", pending.Len())
	}
}

// lateAnswer is a PendingStore whose claims commit even when ctx is cancelled
// meanwhile, and then report the cancellation, as a database does when the
// caller gives up after the DELETE ran.
type lateAnswer struct{ *MemoryPending }

func (s lateAnswer) Match(ctx context.Context, partner, messageID string) (Pending, error) {
	p, err := s.MemoryPending.Match(context.Background(), partner, messageID)
	if ctx.Err() != nil {
		return Pending{}, ctx.Err()
	}
	return p, err
}

func (s lateAnswer) Peek(_ context.Context, partner, messageID string) (Pending, error) {
	return s.MemoryPending.Peek(context.Background(), partner, messageID)
}

// The poster of an MDN hangs up while it is being matched: the claim is not
// abandoned half-way (the record gone, the send unsettled, the poster's retry
// refused as unknown); the MDN settles the send.
func TestAsyncMDNClaimSurvivesHangUp(t *testing.T) {
	pe := newPeer(t)
	p := pe.profile(t)
	p.SignedMDN = false
	pending := NewMemoryPending()
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	s := newSender(t, Config{Pending: lateAnswer{pending}, Profiles: func(context.Context, string, string) (*Profile, error) {
		hangUp() // the poster is gone by the time the MDN is matched
		return p, nil
	}})
	sum := sha256.Sum256([]byte("what we sent"))
	mic := edias2.MIC{Digest: edias2.SHA256, Value: sum[:]}
	const id = "<997_000000002.edi.acme.5f3a@PAKLOG>"
	now := time.Now()
	if err := pending.Save(context.Background(), Pending{MessageID: id, Partner: "ACME", MIC: mic, SentAt: now, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mdn, err := edias2.BuildMDN(&edias2.Message{MessageID: id, From: "PAKLOG", To: "ACME", MIC: mic, MDN: edias2.MDNRequest{Mode: edias2.MDNAsync}}, nil, edias2.MDNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.HandleAsyncMDN(ctx, mdn.Header, bytes.NewReader(mdn.Body))
	if err != nil || res == nil || res.Status != StatusDelivered {
		t.Fatalf("result %+v, error %v; want the send settled as delivered", res, err)
	}
}
