package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxPasswordFile bounds --etcd-password-file: a password, not a document.
const maxPasswordFile = 4096

// etcdPasswordDeprecation completes pflag's one-line warning "Flag
// --etcd-password has been deprecated, ...", which never shows the value.
const etcdPasswordDeprecation = "it shows the password to every user in ps; use VPCROUTE_ETCD_PASSWORD, the config file or --etcd-password-file"

// loadEtcdPassword reads --etcd-password-file into o.etcdPasswordFromFile.
// One password source only: a file and a value together are bad input.
func (o *options) loadEtcdPassword() error {
	if o.EtcdPasswordFile == "" {
		o.etcdPasswordFromFile = ""
		return nil
	}
	if o.EtcdPassword != "" {
		return fmt.Errorf("etcd-password-file %q and etcd-password are both set: expected one of them", o.EtcdPasswordFile)
	}
	pw, err := readPasswordFile(o.EtcdPasswordFile)
	if err != nil {
		return err
	}
	o.etcdPasswordFromFile = pw
	return nil
}

// readPasswordFile returns the file's content without its line ending.
// Errors name the path, never the content.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("etcd-password-file %q cannot be read: %w", path, unwrapPath(err))
	}
	defer func() { _ = f.Close() }() // read-only
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("etcd-password-file %q cannot be read: %w", path, unwrapPath(err))
	}
	if len(b) > maxPasswordFile {
		return "", fmt.Errorf("etcd-password-file %q is larger than %d bytes: expected a file holding only the etcd password", path, maxPasswordFile)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", fmt.Errorf("etcd-password-file %q is empty: expected the etcd password on one line", path)
	}
	if bytes.ContainsAny(b, "\r\n") {
		return "", fmt.Errorf("etcd-password-file %q holds several lines: expected the etcd password on one line", path)
	}
	return string(b), nil
}

// unwrapPath drops the path an *os.PathError repeats, so that the error
// names it once.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
