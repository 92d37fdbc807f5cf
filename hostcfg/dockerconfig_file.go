package hostcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// BackupSuffix is appended to daemon.json's path for the copy of the
// previous file that SaveDockerConfig keeps.
const BackupSuffix = ".vpcroute-backup"

// maxDockerConfig bounds what is read: daemon.json is a few hundred bytes.
const maxDockerConfig = 1 << 20

// DockerConfigFile is daemon.json as read from disk.
type DockerConfigFile struct {
	Path string
	// Exists is false when there was no file: Config is then empty.
	Exists bool
	// Mode, UID and GID are kept by SaveDockerConfig.
	Mode     fs.FileMode
	UID, GID int
	Config   DockerConfig
}

// LoadDockerConfig reads and parses the daemon.json at path. A missing
// file is an empty config; a file that is not one JSON object is an error
// naming the path.
func LoadDockerConfig(path string) (DockerConfigFile, error) {
	f := DockerConfigFile{Path: path, Mode: 0o644, UID: -1, GID: -1}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		f.Config, _ = ParseDockerConfig(nil)
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return f, fmt.Errorf("read %s: not a regular file", path)
	}
	if st.Size() > maxDockerConfig {
		return f, fmt.Errorf("read %s: %d bytes: expected at most %d", path, st.Size(), maxDockerConfig)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	f.Exists, f.Mode = true, st.Mode().Perm()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = int(sys.Uid), int(sys.Gid)
	}
	if f.Config, err = ParseDockerConfig(b); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// SaveDockerConfig replaces f's file with data atomically (a temporary file
// in the same directory, synced, renamed over it), with the mode and owner
// the file had (0644 root for a new one). The previous file, if any, is
// first copied to Path+BackupSuffix; it returns that path, or "" when there
// was nothing to back up.
func SaveDockerConfig(f DockerConfigFile, data []byte) (string, error) {
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	backup := ""
	if f.Exists {
		backup = f.Path + BackupSuffix
		if err := writeAtomic(backup, f.Config.raw, f); err != nil {
			return "", fmt.Errorf("back up %s: %w", f.Path, err)
		}
	}
	if err := writeAtomic(f.Path, data, f); err != nil {
		return backup, fmt.Errorf("write %s: %w", f.Path, err)
	}
	return backup, nil
}

// writeAtomic writes data to path through a temporary file renamed over
// it, with f's mode and owner.
func writeAtomic(path string, data []byte, f DockerConfigFile) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name()) // best effort: the error says what failed
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err = tmp.Chmod(f.Mode); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if f.UID >= 0 {
		if err = tmp.Chown(f.UID, f.GID); err != nil {
			return errors.Join(err, tmp.Close())
		}
	}
	if err = tmp.Sync(); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
