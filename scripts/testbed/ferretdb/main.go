// Command ferretdb runs FerretDB 1.24 (MongoDB wire protocol) on top of its SQLite
// backend, for the local test bed only (see docs/TESTBED.md).
//
// It embeds the package github.com/FerretDB/FerretDB/ferretdb instead of building
// FerretDB's own cmd/ferretdb: that command panics at start when built from the
// module zip, because build/version/version.txt is not part of the zip.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:37017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory holding the SQLite databases (created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dataDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dataDir, logLevel string) error {
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}

	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}

	// The SQLite handler refuses a directory that does not exist.
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	var level slog.Level
	if err = level.UnmarshalText([]byte(logLevel)); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Telemetry: the embeddable package disables it itself (state.DisableTelemetry);
	// there is no replica set (no ReplSetName in this API), as wanted.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		// synchronous(NORMAL) in WAL mode: a commit survives a crash of this process (not a power
		// cut) without an fsync per write, which a test bed on a shared disk cannot afford.
		SQLiteURL: "file:" + strings.TrimSuffix(dir, "/") + "/?_pragma=synchronous(NORMAL)",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("ferretdb starting", "listen", listen, "dataDir", dir, "uri", f.MongoDBURI())

	err = f.Run(ctx)

	logger.Info("ferretdb stopped")

	return err
}
