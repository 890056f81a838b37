package temporalclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/erpbridge/erpbridge/config"
)

// fakeFrontend answers the one call the SDK makes when it connects and keeps
// the metadata it was sent.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu    sync.Mutex
	auths []string
}

func (f *fakeFrontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auths = append(f.auths, md.Get("authorization")...)
	f.mu.Unlock()
	return &workflowservice.GetSystemInfoResponse{}, nil
}

// startFrontend serves a fake frontend over TLS with the server certificate;
// clientCA, when set, makes client certificates required (mTLS).
func startFrontend(t *testing.T, pki *testPKI, clientCA bool) (string, *fakeFrontend) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(pki.serverCert, pki.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, pki.pool
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	f := &fakeFrontend{}
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), f
}

// temporalAt is the default configuration with the Temporal frontend at addr.
func temporalAt(addr string) config.Config {
	cfg := config.Default()
	cfg.Temporal.Address = addr
	return cfg
}

func dialWith(t *testing.T, cfg config.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, DialOptions{})
	if err == nil {
		c.Close()
	}
	return err
}

func TestDialMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	addr, _ := startFrontend(t, pki, true)
	cfg := temporalAt(addr)
	cfg.Temporal.TLSCA, cfg.Temporal.TLSServerName = pki.caCert, "frontend.test"
	cfg.Temporal.TLSCert, cfg.Temporal.TLSKey = pki.clientCert, pki.clientKey
	if err := dialWith(t, cfg); err != nil {
		t.Fatalf("mTLS dial: %v", err)
	}

	noCert := cfg
	noCert.Temporal.TLSCert, noCert.Temporal.TLSKey = "", ""
	if err := dialWith(t, noCert); err == nil {
		t.Fatal("a frontend that requires a client certificate accepted a connection without one")
	}
	wrongName := cfg
	wrongName.Temporal.TLSServerName = "elsewhere.test"
	if err := dialWith(t, wrongName); err == nil {
		t.Fatal("a certificate for frontend.test was accepted for elsewhere.test")
	}
	plain := temporalAt(addr)
	if err := dialWith(t, plain); err == nil {
		t.Fatal("a plain-text connection to a TLS frontend succeeded")
	}
}

func TestDialAPIKeyUsesTLSAndBearerToken(t *testing.T) {
	pki := newTestPKI(t)
	addr, f := startFrontend(t, pki, false)
	cfg := temporalAt(addr)
	cfg.Temporal.TLSCA, cfg.Temporal.TLSServerName, cfg.Temporal.APIKey = pki.caCert, "frontend.test", "key-123"
	if err := dialWith(t, cfg); err != nil {
		t.Fatalf("API key dial: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auths) == 0 || f.auths[0] != "Bearer key-123" {
		t.Fatalf("authorization metadata %q, want Bearer key-123", f.auths)
	}
}

func TestTLSConfigRefusesBadFiles(t *testing.T) {
	pki := newTestPKI(t)
	for name, set := range map[string]func(*config.Temporal){
		"cert without key": func(tc *config.Temporal) { tc.TLSCert = pki.clientCert },
		"missing CA file":  func(tc *config.Temporal) { tc.TLSCA = filepath.Join(t.TempDir(), "none.pem") },
		"CA not PEM":       func(tc *config.Temporal) { tc.TLSCA = pki.clientKey + ".txt" },
		"key of another":   func(tc *config.Temporal) { tc.TLSCert, tc.TLSKey = pki.clientCert, pki.serverKey },
	} {
		tc := config.Default().Temporal
		set(&tc)
		if name == "CA not PEM" {
			_ = os.WriteFile(tc.TLSCA, []byte("not a certificate"), 0o600)
		}
		if _, err := tlsConfig(tc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if c, err := tlsConfig(config.Default().Temporal); c != nil || err != nil {
		t.Errorf("no TLS settings gave %v, %v; want plain text", c, err)
	}
}

// A certificate rotated on disk is used from the next handshake on.
func TestClientCertificateIsReloadedAfterRotation(t *testing.T) {
	pki := newTestPKI(t)
	kp := &keyPair{certFile: pki.clientCert, keyFile: pki.clientKey}
	first, err := kp.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := kp.get(nil)
	if again != first {
		t.Fatal("unchanged files were read again")
	}
	next := newTestPKI(t)
	for from, to := range map[string]string{next.clientCert: pki.clientCert, next.clientKey: pki.clientKey} {
		b, _ := os.ReadFile(from)
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Second)
		_ = os.Chtimes(to, later, later)
	}
	rotated, err := kp.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(rotated.Certificate[0]) == string(first.Certificate[0]) {
		t.Fatal("the rotated certificate was not picked up")
	}
}

// testPKI is a CA with a server certificate for frontend.test and 127.0.0.1
// and a client certificate, as PEM files.
type testPKI struct {
	caCert, serverCert, serverKey, clientCert, clientKey string
	pool                                                 *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{caCert: writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, dns []string, ips []net.IP) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: dns, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		base := strings.ReplaceAll(name, ".", "-")
		return writePEM(t, dir, base+".pem", "CERTIFICATE", der), writePEM(t, dir, base+"-key.pem", "EC PRIVATE KEY", keyDER)
	}
	p.serverCert, p.serverKey = issue("frontend.test", 2, x509.ExtKeyUsageServerAuth, []string{"frontend.test"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = issue("erpbridge.client", 3, x509.ExtKeyUsageClientAuth, nil, nil)
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
