// Package ops owns the operations kit shipped in the Debian package: the
// Prometheus alert rules (prometheus/kiosk-alerts.yml, unit-tested by
// `promtool test rules` in CI) and the Grafana fleet dashboard
// (grafana/kiosk-fleet.json). It has no code; its test keeps the metric names
// they use in step with what kiosk/monitor exports.
package ops
