#!/usr/bin/env bash
# Start a PulseAudio daemon with a null sink "ci_sink" at 22050 Hz, so playback tests hear real audio
# headless (the tests record its monitor). Idempotent; `stop` ends the daemon.
set -u
if [ "${1:-}" = "stop" ]; then
  pkill -f 'pacat --playback --device=ci_sink' 2>/dev/null
  pulseaudio --kill 2>/dev/null
  exit 0
fi
command -v pulseaudio >/dev/null || { echo "pulse-null-sink: pulseaudio not installed" >&2; exit 1; }
pactl info >/dev/null 2>&1 || pulseaudio -D --exit-idle-time=-1 --disallow-exit 2>/dev/null
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || { echo "pulse-null-sink: the daemon did not start" >&2; exit 1; }
if ! pactl list short sinks | grep -q ci_sink; then
  pactl load-module module-null-sink sink_name=ci_sink rate=22050 channels=2 >/dev/null
fi
pactl set-default-sink ci_sink
pactl set-default-source ci_sink.monitor
# keep-alive: without it the sink suspends after 5 s and the first sound comes 1.5 s late
if ! pgrep -f 'pacat --playback --device=ci_sink' >/dev/null; then
  nohup pacat --playback --device=ci_sink --latency-msec=10 --format=s16le --rate=22050 --channels=2 \
    < /dev/zero >/dev/null 2>&1 &
fi
echo "pulse-null-sink: ci_sink ready"
