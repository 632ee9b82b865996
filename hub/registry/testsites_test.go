package registry

import (
	"slices"
	"testing"
)

func TestTestSites(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			s, _ := e.open(t)
			ctx := t.Context()
			if s.IsTestSite(ctx, "demo-1") {
				t.Fatal("a site is a test site before anyone said so")
			}
			g0, _ := s.Generation(ctx)
			for _, site := range []string{"demo-1", "training"} {
				if err := s.SetTestSite(ctx, site, true); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetTestSite(ctx, "demo-1", true); err != nil {
				t.Fatalf("marking twice: %v", err)
			}
			if g1, _ := s.Generation(ctx); g1 <= g0 {
				t.Error("marking a test site did not bump the generation")
			}
			if got, _ := s.TestSites(ctx); !slices.Equal(got, []string{"demo-1", "training"}) || !s.IsTestSite(ctx, "demo-1") {
				t.Fatalf("TestSites = %v", got)
			}
			if err := s.SetTestSite(ctx, "training", false); err != nil || s.IsTestSite(ctx, "training") {
				t.Fatalf("unmarking: %v", err)
			}
			if err := s.SetTestSite(ctx, "bad site", true); err == nil {
				t.Fatal("a bad site name was taken")
			}
		})
	}
}
