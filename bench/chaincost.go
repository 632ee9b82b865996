package main

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// The cost budget of issue 14: what the entry chain and batch signatures
// cost, each figure measured in turns, in one run, against the same code
// with hashing and signatures off (journal.Options.NoChain,
// records.WithoutChain, server.Config.NoChain: switches no user sets).
//
//	go run ./bench -only chaincost [-n 100000] [-rounds 3] [-verify-n 1000000]

// benchChainCost runs the four measurements of the budget (o.only
// "chain-ingest", "chain-append" or "chain-drain": that one alone).
func benchChainCost(ctx context.Context, dir string, o options, log *slog.Logger) ([]result, error) {
	var out []result
	part := func(name string) bool { return o.only == "chaincost" || o.only == name }
	if part("chain-ingest") {
		r, err := chainIngest(ctx, dir, o.n, o.rounds)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		out = append(out, r...)
	}
	if part("chain-append") {
		a, err := chainAppend(ctx, dir, o.appends, o.burst, o.rounds, o.lull)
		if err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
		out = append(out, a)
	}
	if part("chain-drain") {
		d, err := chainDrain(ctx, dir, o.n, o.gzipAbove, o.rounds, log)
		if err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		out = append(out, d...)
	}
	if o.only != "chaincost" {
		return out, nil
	}
	v, err := chainVerify(ctx, dir, o.verifyN)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return append(out, v), nil
}

// signedBatches is n benchmark entries in batches of MaxBatchEntries,
// chained as a kiosk's journal chains them and signed with priv; with
// priv nil, neither chained nor signed.
func signedBatches(n int, priv ed25519.PrivateKey) ([]protocol.Batch, error) {
	bs := makeBatches("bench-1", n)
	prev := protocol.Genesis
	for i := range bs {
		if priv == nil {
			continue
		}
		for k := range bs[i].Entries {
			e := &bs[i].Entries[k]
			e.Prev = protocol.HashText(prev)
			prev = protocol.EntryHash(prev, *e)
		}
		if err := protocol.SignBatch(priv, &bs[i]); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// chainIngest times the hub's ingest of n entries with the signature
// checked and the chain hashed, stored and checked (VerifyBatchLinks,
// then SaveBatch), the same with both off, and a raw batched INSERT of
// the same rows, rounds times, each round into new files. The three go
// in fine turns: batch by batch, each batch stored by all three (who goes
// first rotating), so that what else the machine does falls on the three
// alike. Each round gives rates from the summed times of its batches; the
// medians of the rounds' ratios are reported, with their spread.
func chainIngest(ctx context.Context, dir string, n, rounds int) ([]result, error) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	signed, err := signedBatches(n, priv)
	if err != nil {
		return nil, err
	}
	plain, err := signedBatches(n, nil)
	if err != nil {
		return nil, err
	}
	var vsRaw, vsOff []float64
	var on, off, raw []time.Duration // each round's total
	for round := range rounds {
		d, err := ingestRound(ctx, filepath.Join(dir, fmt.Sprintf("chain-ingest-%d", round)), signed, plain, pub)
		if err != nil {
			return nil, err
		}
		on, off, raw = append(on, d[0]), append(off, d[1]), append(raw, d[2])
		vsRaw = append(vsRaw, d[2].Seconds()/d[0].Seconds())
		vsOff = append(vsOff, d[1].Seconds()/d[0].Seconds())
	}
	rate := func(ds []time.Duration) float64 { return float64(n) / median(ds).Seconds() }
	mid := func(rs []float64) (m, lo, hi float64) {
		s := slices.Clone(rs)
		slices.Sort(s)
		return s[len(s)/2], s[0], s[len(s)-1]
	}
	r, rlo, rhi := mid(vsRaw)
	c, clo, chi := mid(vsOff)
	return []result{
		{name: "chain-ingest", unit: "entries/s", ours: rate(raw) * r, baseline: rate(raw), baseName: "raw INSERT", higherIsBetter: true,
			detail: fmt.Sprintf("hub ingest with signatures checked and the chain hashed once and checked (VerifyBatchLinks + SaveBatch), %d entries "+
				"in batches of %d, %d rounds, batch by batch in turns with the raw INSERT and the ingest without the chain: median of the "+
				"rounds' ratios %.2fx (spread %.2f-%.2fx; goal ≥ 0.5x raw); median rates with %.0f/s, without %.0f/s, raw %.0f/s",
				n, protocol.MaxBatchEntries, rounds, r, rlo, rhi, rate(on), rate(off), rate(raw))},
		{name: "chain-ingest-cost", unit: "entries/s", ours: rate(off) * c, baseline: rate(off), baseName: "ingest without chain or signatures",
			higherIsBetter: true, detail: fmt.Sprintf("the same ingest with hashing and signatures off (records.WithoutChain, no VerifyBatch): "+
				"median of the rounds' ratios %.2fx (spread %.2f-%.2fx)", c, clo, chi)},
	}, nil
}

// ingestRound stores signed (with the chain, checking each batch's
// signature against pub and handing the links that computed to the
// store, as the hub's ingest does), plain (without) and plain's rows
// raw, into new files under dir, batch by batch in turns, and returns
// the summed times of the three.
func ingestRound(ctx context.Context, dir string, signed, plain []protocol.Batch, pub ed25519.PublicKey) ([3]time.Duration, error) {
	var took [3]time.Duration
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return took, err
	}
	defer os.RemoveAll(dir)
	received := time.Now()
	storeOn, err := records.Open(filepath.Join(dir, "on.db"))
	if err != nil {
		return took, err
	}
	defer storeOn.Close()
	storeOff, err := records.Open(filepath.Join(dir, "off.db"))
	if err != nil {
		return took, err
	}
	defer storeOff.Close()
	db, err := openRaw(filepath.Join(dir, "raw.db"))
	if err != nil {
		return took, err
	}
	defer db.Close()
	offCtx := records.WithoutChain(ctx)
	for i := range signed {
		steps := [3]func() error{
			func() error {
				b := signed[i]
				links, err := protocol.VerifyBatchLinks(pub, b)
				if err != nil {
					return err
				}
				b.Links = links
				_, err = storeOn.SaveBatch(ctx, b, received)
				return err
			},
			func() error { _, err := storeOff.SaveBatch(offCtx, plain[i], received); return err },
			func() error { return rawInsert(ctx, db, plain[i], received) },
		}
		for k := range steps { // which goes first turns each batch
			side := (k + i) % len(steps)
			start := time.Now()
			if err := steps[side](); err != nil {
				return took, err
			}
			took[side] += time.Since(start)
		}
	}
	return took, nil
}

// openRaw opens a new bare table for the raw INSERT of the rows, as
// benchIngest's baseline: the same columns, pragmas and durability.
func openRaw(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE entries (kiosk TEXT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL,
		id TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL, decision TEXT NOT NULL, body TEXT NOT NULL,
		received_at INTEGER NOT NULL, PRIMARY KEY (kiosk, seq)) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// chainAppend times journal.Append with the chain and without, rounds
// times. Each round appends n entries to each journal in fine turns: one
// with, one without (the pair's order alternating), in rushes of burst
// pairs with lull between rushes, so that the disk's stalls, which decide
// a p99, fall on both sides alike. Each round gives a ratio of p99s; the
// median ratio is reported, with every round's and the p99s over all
// rounds.
func chainAppend(ctx context.Context, dir string, n, burst, rounds int, lull time.Duration) (result, error) {
	var on, off []time.Duration // every round's
	var ratios []float64
	var perRound []string
	for round := range rounds {
		ron, roff, err := appendRound(ctx, filepath.Join(dir, fmt.Sprintf("chain-append-%d", round)), n, burst, lull)
		if err != nil {
			return result{}, err
		}
		r := us(pct(ron, 99)) / us(pct(roff, 99))
		ratios = append(ratios, r)
		perRound = append(perRound, fmt.Sprintf("%.0f/%.0f µs (%+.1f%%)", us(pct(ron, 99)), us(pct(roff, 99)), 100*(r-1)))
		on, off = append(on, ron...), append(off, roff...)
	}
	mid := slices.Clone(ratios)
	slices.Sort(mid)
	ratio := mid[len(mid)/2]
	return result{
		name: "chain-append", unit: "% p99 (median of the rounds' ratios)", ours: 100 * ratio, baseline: 100, baseName: "append without the chain",
		detail: fmt.Sprintf("%d rounds of %d appends each, with and without in turns (rushes of %d pairs, %v lulls): "+
			"median of the rounds' p99 ratios %+.1f%% (goal ≤ +10%%; spread %+.1f%% to %+.1f%%); each round's p99 with/without: %s; "+
			"over all %d appends of each: with p50 %.0f µs p99 %.0f µs, without p50 %.0f µs p99 %.0f µs (%+.1f%%)",
			rounds, n, burst, lull, 100*(ratio-1), 100*(mid[0]-1), 100*(mid[len(mid)-1]-1), strings.Join(perRound, ", "),
			len(on), us(pct(on, 50)), us(pct(on, 99)), us(pct(off, 50)), us(pct(off, 99)), 100*(us(pct(on, 99))/us(pct(off, 99))-1)),
	}, nil
}

// appendRound appends n entries to a journal with the chain and n to one
// without, in new files under dir, pair by pair, and returns each
// append's time.
func appendRound(ctx context.Context, dir string, n, burst int, lull time.Duration) (on, off []time.Duration, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	open := func(name string, noChain bool) (*journal.Journal, error) {
		return journal.OpenWith(filepath.Join(dir, name+".db"), "bench-1", journal.Options{NoChain: noChain})
	}
	jOn, err := open("on", false)
	if err != nil {
		return nil, nil, err
	}
	defer jOn.Close()
	jOff, err := open("off", true)
	if err != nil {
		return nil, nil, err
	}
	defer jOff.Close()
	appendTo := func(j *journal.Journal, into *[]time.Duration) error {
		e := entry("bench-1", 0)
		e.ID = ""
		start := time.Now()
		if _, err := j.Append(ctx, e); err != nil {
			return err
		}
		*into = append(*into, time.Since(start))
		return nil
	}
	for i := range n {
		if i > 0 && i%burst == 0 && lull > 0 {
			time.Sleep(lull)
		}
		first, second := func() error { return appendTo(jOn, &on) }, func() error { return appendTo(jOff, &off) }
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return nil, nil, err
		}
		if err := second(); err != nil {
			return nil, nil, err
		}
	}
	return on, off, nil
}

// chainDrain runs the drain as deployed (TLS, logins, ACL) with the chain
// and signatures, without them, and the bridge storing the same rows at
// the hub's durability (synchronous=FULL into the hub's schema), in turns,
// rounds times.
func chainDrain(ctx context.Context, dir string, n, gzipAbove, rounds int, log *slog.Logger) ([]result, error) {
	var on, off, bridge []time.Duration
	for round := range rounds {
		rd := filepath.Join(dir, fmt.Sprintf("chain-drain-%d", round))
		if err := os.MkdirAll(rd, 0o750); err != nil {
			return nil, err
		}
		steps := []func() error{
			func() error {
				d, err := drainOursWith(ctx, filepath.Join(rd, "on"), n, gzipAbove, true, true, log)
				on = append(on, d)
				return err
			},
			func() error {
				d, err := drainOursWith(ctx, filepath.Join(rd, "off"), n, gzipAbove, true, false, log)
				off = append(off, d)
				return err
			},
			func() error {
				d, err := drainBridge(ctx, filepath.Join(rd, "bridge"), n, "FULL", true)
				bridge = append(bridge, d)
				return err
			},
		}
		for k := range steps {
			if err := steps[(k+round)%len(steps)](); err != nil {
				return nil, err
			}
		}
		os.RemoveAll(rd)
	}
	rate := func(ds []time.Duration) float64 { return float64(n) / median(ds).Seconds() }
	return []result{
		{name: "chain-drain-cost", unit: "entries/s", ours: rate(on), baseline: rate(off), baseName: "drain without chain or signatures",
			higherIsBetter: true, detail: fmt.Sprintf("%d entries over TLS with logins and the ACL, median of %d rounds in turns: "+
				"%.2f s with, %.2f s without; goal ≥ 0.85x", n, rounds, median(on).Seconds(), median(off).Seconds())},
		{name: "chain-drain", unit: "entries/s", ours: rate(on), baseline: rate(bridge), baseName: "bridge+FULL+hub-schema",
			higherIsBetter: true, detail: fmt.Sprintf("the drain with chain and signatures against the bridge storing the same rows "+
				"at the hub's durability (synchronous=FULL, the hub's schema): %.2f s vs %.2f s; goal ≥ 3x",
				median(on).Seconds(), median(bridge).Seconds())},
	}, nil
}

// chainVerify stores n chained entries in a new hub store and times the
// walk of `hub verify` over them.
func chainVerify(ctx context.Context, dir string, n int) (result, error) {
	path := filepath.Join(dir, "chain-verify.db")
	store, err := records.Open(path)
	if err != nil {
		return result{}, err
	}
	defer store.Close()
	defer os.Remove(path)
	fill := time.Now()
	prev := protocol.Genesis
	for seq := 1; seq <= n; seq += protocol.MaxBatchEntries { // a batch at a time: a million entries are a gigabyte in memory
		b := protocol.Batch{Kiosk: "bench-1", Site: "site-1", Sent: time.Now()}
		for s := seq; s < seq+protocol.MaxBatchEntries && s <= n; s++ {
			e := entry("bench-1", uint64(s))
			e.Prev = protocol.HashText(prev)
			prev = protocol.EntryHash(prev, e)
			b.Entries = append(b.Entries, e)
		}
		if _, err := store.SaveBatch(ctx, b, time.Now()); err != nil {
			return result{}, err
		}
	}
	filled := time.Since(fill)
	start := time.Now()
	v, err := store.Verify(ctx, "")
	took := time.Since(start)
	if err != nil {
		return result{}, err
	}
	if len(v.Findings) > 0 {
		return result{}, fmt.Errorf("verify found %d problems in untouched storage", len(v.Findings))
	}
	rate := float64(n) / took.Seconds()
	return result{
		name: "chain-verify", unit: "entries/s", ours: rate, baseline: rate, baseName: "(no baseline)", higherIsBetter: true,
		detail: fmt.Sprintf("hub verify of %d stored entries: %.2f s (%.0f entries/s); stored them in %.1f s", n, took.Seconds(), rate,
			filled.Seconds()),
	}, nil
}
