package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/mapping"
)

// maxRecordFileBytes bounds the record file `mapping render` reads.
const maxRecordFileBytes = 16 << 20

// mappingUsage is the mapping command's help.
const mappingUsage = `usage:
  erpbridge mapping check [--erp kingdee|tryton] [file]
  erpbridge mapping render [--erp kingdee|tryton] [--mapping file] [--kind kind] record.json

check compiles a mapping file and lists its kinds; without a file, the
mapping the worker would load: ERP_MAPPING, else the default of ERP_KIND
(with ERP_KIND=http, both defaults). A file is checked for the ERP its erp:
names, unless --erp or ERP_KIND says which.

render prints the document a record becomes, without calling the ERP.
record.json (- for stdin) is a record as the HTTP contract sends it
({"source","kind","external_id","version","occurred_at","data"}); --kind
replaces its kind. The ERP is --erp, else ERP_KIND; the mapping --mapping,
else ERP_MAPPING when it is that ERP's, else the default.

Both exit non-zero with the reason when the mapping does not compile or
the record does not render.
`

// runMapping runs `erpbridge mapping check|render`.
func runMapping(args []string, cfg config.Config, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mappingUsage)
		return errors.New("mapping: say check or render")
	}
	switch args[0] {
	case "check":
		return runMappingCheck(args[1:], cfg, stdout, stderr)
	case "render":
		return runMappingRender(args[1:], cfg, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, mappingUsage)
		return nil
	}
	fmt.Fprint(stderr, mappingUsage)
	return fmt.Errorf("mapping: unknown subcommand %q (check or render)", args[0])
}

func runMappingCheck(args []string, cfg config.Config, stdout, stderr io.Writer) error {
	fs := mappingFlags("check", stderr)
	erpKind := fs.String("erp", "", "the ERP the mapping is for: kingdee or tryton")
	files, err := parseInterleaved(fs, args)
	if err != nil || len(files) > 1 {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("mapping check: one file at most, got %d", len(files))
		}
		return err
	}
	if err := checkMappingERP(*erpKind); err != nil {
		return err
	}
	kind := *erpKind
	if kind == "" && erp.IsConnector(cfg.ERP.Kind) {
		kind = cfg.ERP.Kind
	}
	if len(files) == 1 {
		if kind == "" {
			kind = fileERP(files[0])
		}
		return mapping.Check(stdout, kind, files[0])
	}
	if kind == "" {
		// The HTTP contract has no mapping: check both defaults.
		for _, k := range []string{erp.KindKingdee, erp.KindTryton} {
			if err := mapping.Check(stdout, k, ""); err != nil {
				return err
			}
		}
		return nil
	}
	path := ""
	if kind == cfg.ERP.Kind {
		path = cfg.ERP.Mapping
	}
	return mapping.Check(stdout, kind, path)
}

func runMappingRender(args []string, cfg config.Config, stdout, stderr io.Writer) error {
	fs := mappingFlags("render", stderr)
	erpKind := fs.String("erp", "", "the ERP to render for: kingdee or tryton (default ERP_KIND)")
	file := fs.String("mapping", "", "the mapping file (default ERP_MAPPING when it is that ERP's, else the default mapping)")
	kind := fs.String("kind", "", "render the record as this kind (default the record's own)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("mapping render: give one record file (or - for stdin), got %d", len(rest))
	}
	if err := checkMappingERP(*erpKind); err != nil {
		return err
	}
	target := *erpKind
	if target == "" {
		if !erp.IsConnector(cfg.ERP.Kind) {
			return fmt.Errorf("mapping render: say --erp kingdee or --erp tryton (ERP_KIND=%s has no mapping)", cfg.ERP.Kind)
		}
		target = cfg.ERP.Kind
	}
	path := *file
	if path == "" && target == cfg.ERP.Kind {
		path = cfg.ERP.Mapping
	}
	record, err := readRecordFile(rest[0])
	if err != nil {
		return err
	}
	return mapping.RenderFile(stdout, target, path, *kind, record)
}

// mappingFlags is the flag set of one mapping subcommand.
func mappingFlags(sub string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("erpbridge mapping "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, mappingUsage+"\nflags of "+sub+":\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, and returns those.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// checkMappingERP refuses an --erp that has no mappings.
func checkMappingERP(kind string) error {
	if kind != "" && !erp.IsConnector(kind) {
		return fmt.Errorf("--erp %q: mappings are for kingdee or tryton", kind)
	}
	return nil
}

// fileERP is the ERP a mapping file's erp: names, or kingdee when it names
// none that can be read: the check then says what is wrong with the file.
func fileERP(path string) string {
	src, err := os.ReadFile(path)
	if err != nil {
		return erp.KindKingdee
	}
	var head struct {
		ERP string `yaml:"erp"`
	}
	if yaml.NewDecoder(bytes.NewReader(src)).Decode(&head) != nil || !erp.IsConnector(strings.TrimSpace(head.ERP)) {
		return erp.KindKingdee
	}
	return strings.TrimSpace(head.ERP)
}

// readRecordFile reads a record file, or standard input for "-".
func readRecordFile(path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("mapping render: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxRecordFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("mapping render: read %s: %w", path, err)
	}
	if len(b) > maxRecordFileBytes {
		return nil, fmt.Errorf("mapping render: %s is larger than %d bytes", path, maxRecordFileBytes)
	}
	return b, nil
}
