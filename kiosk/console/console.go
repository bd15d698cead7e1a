// Package console owns the Linux virtual console the kiosk runs on: it locks
// console switching (so Ctrl+Alt+F2 cannot leave the kiosk screen for a
// login prompt) and turns screen blanking off, and undoes the lock.
//
// Both need privileges the daemon does not have (CAP_SYS_TTY_CONFIG): the
// unit runs them as `kioskd --lock-vt` / `--unlock-vt` in ExecStartPre=+ and
// ExecStopPost=+, before and after the unprivileged daemon.
package console

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctls of linux/vt.h (not in x/sys/unix).
const (
	vtLockSwitch   = 0x560B // VT_LOCKSWITCH: refuse console switches
	vtUnlockSwitch = 0x560C // VT_UNLOCKSWITCH
	vtGetState     = 0x5603 // VT_GETSTATE: only a virtual console answers
)

// blankOff is the console's private escape for "blank after 0 minutes"
// (never) and "power down after 0 minutes": what setterm -blank 0
// -powerdown 0 writes. The kernel's consoleblank parameter is read-only
// once booted, so this is the only way without a boot option.
const blankOff = "\x1b[9;0]\x1b[14;0]"

// Lock refuses console switching on every virtual console until Unlock and
// turns blanking off. path is the kiosk's console, e.g. /dev/tty1.
func Lock(path string) error {
	f, err := openVT(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(blankOff); err != nil {
		return fmt.Errorf("console %s: turn blanking off: %w", path, err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), vtLockSwitch, 0); err != nil {
		return fmt.Errorf("console %s: lock switching (VT_LOCKSWITCH needs CAP_SYS_TTY_CONFIG): %w", path, err)
	}
	return nil
}

// Unlock allows console switching again.
func Unlock(path string) error {
	f, err := openVT(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), vtUnlockSwitch, 0); err != nil {
		return fmt.Errorf("console %s: unlock switching: %w", path, err)
	}
	return nil
}

// openVT opens path and checks it is a Linux virtual console, so a serial
// console or a pseudo-terminal gets a clear error instead of an odd ioctl.
func openVT(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOCTTY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	var state [3]uint16 // struct vt_stat
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), vtGetState, uintptr(unsafe.Pointer(&state))); errno != 0 {
		f.Close()
		if errors.Is(errno, unix.ENOTTY) || errors.Is(errno, unix.EINVAL) {
			return nil, fmt.Errorf("console: %s is not a Linux virtual console (VT_GETSTATE: %v)", path, errno)
		}
		return nil, fmt.Errorf("console: %s: VT_GETSTATE: %w", path, errno)
	}
	return f, nil
}
