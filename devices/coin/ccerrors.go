package coin

import (
	"fmt"

	"github.com/printroom/voucherkiosk/devices"
)

// ccError is one row of the ccTalk coin acceptor error code table (the
// generic specification, part 3, "error codes"), as the kiosk classifies it.
type ccError struct {
	name   string
	status devices.Status
}

var ccErrors = map[byte]ccError{
	1:   {"reject coin", devices.StatusCoinRejected},
	2:   {"inhibited coin", devices.StatusCoinRejected},
	3:   {"multiple window", devices.StatusCoinRejected},
	4:   {"wake-up timeout", devices.StatusCoinRejected},
	5:   {"validation timeout", devices.StatusCoinRejected},
	6:   {"credit sensor timeout", devices.StatusCoinRejected},
	7:   {"sorter opto timeout", devices.StatusFault},
	8:   {"2nd close coin error", devices.StatusCoinRejected},
	9:   {"accept gate not ready", devices.StatusCoinRejected},
	10:  {"credit sensor not ready", devices.StatusCoinRejected},
	11:  {"sorter not ready", devices.StatusCoinRejected},
	12:  {"reject coin not cleared", devices.StatusCoinRejected},
	13:  {"validation sensor not ready", devices.StatusSensorBlocked},
	14:  {"credit sensor blocked", devices.StatusSensorBlocked},
	15:  {"sorter opto blocked", devices.StatusSensorBlocked},
	16:  {"credit sequence error", devices.StatusFraudAttempt},
	17:  {"coin going backwards", devices.StatusFraudAttempt},
	18:  {"coin too fast over credit sensor", devices.StatusFraudAttempt},
	19:  {"coin too slow over credit sensor", devices.StatusFraudAttempt},
	20:  {"coin on string mechanism activated", devices.StatusFraudAttempt},
	21:  {"DCE opto timeout", devices.StatusFault},
	22:  {"DCE opto not seen", devices.StatusFault},
	23:  {"credit sensor reached too early", devices.StatusFraudAttempt},
	24:  {"reject coin (repeated sequential trip)", devices.StatusCoinRejected},
	25:  {"reject slug", devices.StatusCoinRejected},
	26:  {"reject sensor blocked", devices.StatusSensorBlocked},
	27:  {"games overload", devices.StatusFault},
	28:  {"max coin meter pulses exceeded", devices.StatusFault},
	29:  {"accept gate open not closed", devices.StatusJammed},
	30:  {"accept gate closed not open", devices.StatusJammed},
	31:  {"manifold opto timeout", devices.StatusFault},
	32:  {"manifold opto blocked", devices.StatusSensorBlocked},
	33:  {"manifold not ready", devices.StatusFault},
	34:  {"security status changed", devices.StatusFraudAttempt},
	35:  {"motor exception", devices.StatusFault},
	36:  {"swallowed coin", devices.StatusFault},
	37:  {"coin too fast over validation sensor", devices.StatusCoinRejected},
	38:  {"coin too slow over validation sensor", devices.StatusCoinRejected},
	39:  {"coin incorrectly sorted", devices.StatusFault},
	40:  {"external light attack", devices.StatusFraudAttempt},
	253: {"data block request", devices.StatusFault},
	254: {"coin return mechanism activated", devices.StatusFault},
	255: {"unspecified alarm code", devices.StatusFault},
}

// ccErrSwallowed is a coin the device kept without crediting it: money in
// the box that no one was credited for.
const ccErrSwallowed = 36

// classifyCCError names an error code. Codes 128..159 are "inhibited coin
// (type n)"; anything not in the table is a fault with its number.
func classifyCCError(code byte) (devices.Status, string) {
	if e, ok := ccErrors[code]; ok {
		return e.status, fmt.Sprintf("ccTalk error %d: %s", code, e.name)
	}
	if code >= 128 && code <= 159 {
		return devices.StatusCoinRejected, fmt.Sprintf("ccTalk error %d: inhibited coin (type %d)", code, code-127)
	}
	return devices.StatusFault, fmt.Sprintf("ccTalk error %d", code)
}
