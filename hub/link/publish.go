package link

import (
	"context"
	"fmt"
	"time"
)

// Everything the hub publishes (acks, downlinks) goes out on the main
// connection, whose reader never waits for ingest: see Link.

// Publish sends a retained QoS 1 message and waits, bounded, for the PUBACK.
func (l *Link) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tok := l.main.client.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(tokenTimeout) {
		return fmt.Errorf("publish %s: no PUBACK within %s", topic, tokenTimeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Send is Publish that does not wait: it hands the message to the client,
// which sends messages in the order they were given, and returns a
// function that waits, bounded, for the PUBACK.
func (l *Link) Send(topic string, payload []byte) func(context.Context) error {
	tok := l.main.client.Publish(topic, 1, true, payload)
	return func(ctx context.Context) error {
		select {
		case <-tok.Done():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tokenTimeout):
			return fmt.Errorf("publish %s: no PUBACK within %s", topic, tokenTimeout)
		}
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish %s: %w", topic, err)
		}
		return nil
	}
}
