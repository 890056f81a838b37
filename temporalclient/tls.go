package temporalclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// tlsConfig returns the TLS settings of the Temporal connection, or nil for
// plain text. TLS is on as soon as any of TEMPORAL_TLS_CERT, TEMPORAL_TLS_CA,
// TEMPORAL_TLS_SERVER_NAME or TEMPORAL_API_KEY is set: Temporal Cloud takes
// either an mTLS client certificate or an API key, both over TLS.
func tlsConfig(tc config.Temporal) (*tls.Config, error) {
	if tc.TLSCert == "" && tc.TLSKey == "" && tc.TLSCA == "" &&
		tc.TLSServerName == "" && tc.APIKey == "" {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: tc.TLSServerName}
	if tc.TLSCA != "" {
		pem, err := os.ReadFile(tc.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: no PEM certificate in %s", tc.TLSCA)
		}
		t.RootCAs = pool
	}
	if tc.TLSCert != "" || tc.TLSKey != "" {
		if tc.TLSCert == "" || tc.TLSKey == "" {
			return nil, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
		}
		kp := &keyPair{certFile: tc.TLSCert, keyFile: tc.TLSKey}
		if _, err := kp.get(nil); err != nil {
			return nil, err // refuse to start rather than fail on the first handshake
		}
		t.GetClientCertificate = kp.get
	}
	return t, nil
}

// keyPair is a client certificate read from files, read again when either
// file changes, so a rotated certificate is used from the next connection on
// without a restart.
type keyPair struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	certMod time.Time
	keyMod  time.Time
}

// get is a tls.Config GetClientCertificate.
func (k *keyPair) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	certInfo, err := os.Stat(k.certFile)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_TLS_CERT: %w", err)
	}
	keyInfo, err := os.Stat(k.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_TLS_KEY: %w", err)
	}
	if k.cert != nil && certInfo.ModTime().Equal(k.certMod) && keyInfo.ModTime().Equal(k.keyMod) {
		return k.cert, nil
	}
	c, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		if k.cert != nil {
			return k.cert, nil // half-written rotation: keep the pair that worked
		}
		return nil, fmt.Errorf("load TEMPORAL_TLS_CERT %s and TEMPORAL_TLS_KEY %s: %w", k.certFile, k.keyFile, err)
	}
	k.cert, k.certMod, k.keyMod = &c, certInfo.ModTime(), keyInfo.ModTime()
	return k.cert, nil
}
