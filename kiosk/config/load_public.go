package config

import (
	"fmt"
	"os"
)

// LoadPublic reads and checks the config at path like Load, settling its
// paths, but reads no secret file: for kioskctl commands that need the
// state directory, receipt key path or acceptor values and not MyQ, so a
// technician can run them without the right to read the client secret.
func LoadPublic(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.resolvePaths(os.Getenv)
	return c, nil
}
