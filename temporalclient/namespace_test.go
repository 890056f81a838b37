package temporalclient_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/temporalclient"
)

// Setup registers the search attributes on a namespace that has none, and a
// second run changes nothing.
func TestEnsureSearchAttributesIsIdempotent(t *testing.T) {
	// A server of its own, started without erpbridge's attributes.
	c := testenv.NewTemporal(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	added, err := temporalclient.EnsureSearchAttributes(ctx, c, "default", flow.SearchAttributeNames)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(added)
	want := slices.Clone(flow.SearchAttributeNames)
	slices.Sort(want)
	if !slices.Equal(added, want) {
		t.Fatalf("first run added %v, want %v", added, want)
	}
	again, err := temporalclient.EnsureSearchAttributes(ctx, c, "default", flow.SearchAttributeNames)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run added %v (%v), want nothing", again, err)
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range flow.SearchAttributeNames {
		if resp.GetCustomAttributes()[name] != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("%s is %v, want Keyword", name, resp.GetCustomAttributes()[name])
		}
	}
}
