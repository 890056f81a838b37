package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// EnsureNamespace registers the namespace with the given retention of closed
// workflows, or brings an existing one's retention to it, so it can run at
// every start. It reports what it did: "created", "updated" or "" (nothing).
func EnsureNamespace(ctx context.Context, c client.Client, name string, retention time.Duration) (string, error) {
	svc := c.WorkflowService()
	d, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: name})
	var nf *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &nf):
		_, err = svc.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        name,
			Description:                      "erpbridge",
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return "", nil // registered concurrently
		}
		if err != nil {
			return "", fmt.Errorf("register namespace %s: %w", name, err)
		}
		return "created", nil
	case err != nil:
		return "", fmt.Errorf("describe namespace %s: %w", name, err)
	}
	if d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return "", nil
	}
	_, err = svc.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: name,
		Config:    &namespace.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
	})
	if err != nil {
		return "", fmt.Errorf("set retention of namespace %s to %s: %w", name, retention, err)
	}
	return "updated", nil
}
