package ops

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/monitor"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// exported gathers the metric names a kiosk's /metrics can show, from the
// real collectors: every event counted once and a status with a device and
// a cash box with a capacity, so labelled and optional series appear too.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	st := control.Status{Phase: "idle", JournalDamage: []journal.Damage{{}}, Devices: map[string]control.Device{"notes": {Status: "connected"}},
		Cashbox: []control.CashboxFill{{Acceptor: "notes", Pieces: 1, Capacity: 10}}}
	m := monitor.New(func(context.Context) (control.Status, error) { return st, nil })
	m.Topup(100)
	m.APIError("transient")
	m.Fsync(time.Millisecond)
	m.PINFailure()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		n := f.GetName()
		names[n] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[n+"_sum"], names[n+"_count"] = true, true
		}
	}
	return names
}

// kioskNames are the kiosk_* identifiers in a PromQL expression. Every
// metric the kiosk exports starts with kiosk_, and no label or function does.
var kioskName = regexp.MustCompile(`\bkiosk_[a-zA-Z0-9_:]*`)

func TestRulesAndDashboardUseExportedMetrics(t *testing.T) {
	have := exported(t)
	used := map[string][]string{} // name -> where

	raw, err := os.ReadFile("prometheus/kiosk-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatalf("kiosk-alerts.yml: %v", err)
	}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts++
			where := "alert " + r.Alert
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			if !strings.Contains(r.Annotations["runbook"], "kioskctl ") {
				t.Errorf("%s: runbook %q names no kioskctl command", where, r.Annotations["runbook"])
			}
			for _, n := range kioskName.FindAllString(r.Expr, -1) {
				used[n] = append(used[n], where)
			}
		}
	}
	if alerts < 10 {
		t.Errorf("kiosk-alerts.yml has %d alerts, want the 10 of issue 18", alerts)
	}

	raw, err = os.ReadFile("grafana/kiosk-fleet.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("kiosk-fleet.json: %v", err)
	}
	exprs := 0
	walk(dash, "", func(path, s string) {
		if strings.HasSuffix(path, ".expr") || strings.HasSuffix(path, ".query") || strings.HasSuffix(path, ".definition") {
			exprs++
			for _, n := range kioskName.FindAllString(s, -1) {
				used[n] = append(used[n], "dashboard "+path)
			}
		}
	})
	if exprs == 0 {
		t.Fatal("kiosk-fleet.json: no queries found")
	}

	for n, where := range used {
		if !have[n] {
			t.Errorf("%s uses %s, which kiosk/monitor does not export", strings.Join(slices.Compact(where), ", "), n)
		}
	}
	// The fleet table's columns and the time series must all be there.
	for _, n := range []string{"kiosk_myq_online", "kiosk_queue_pending", "kiosk_queue_oldest_pending_seconds",
		"kiosk_queue_needs_attention", "kiosk_cashbox_fill_ratio", "kiosk_device_connected",
		"kiosk_topups_total", "kiosk_topup_amount_minor_total"} {
		if !slices.ContainsFunc(used[n], func(w string) bool { return strings.HasPrefix(w, "dashboard") }) {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}

func walk(v any, path string, f func(path, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walk(x, path+"."+k, f)
		}
	case []any:
		for i, x := range v {
			walk(x, path+"["+strconv.Itoa(i)+"]", f)
		}
	case string:
		f(path, v)
	}
}
