package e2e

import (
	"testing"

	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
