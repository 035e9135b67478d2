#!/usr/bin/env bash
# Installs the Debian packages the test suite drives as real third-party peers:
# Chromium (WebRTC viewer, dashboard), ffmpeg/ffprobe (reference decoder, RTSP client),
# GStreamer (rtspsrc client; RTSP server for our client and gateway, x264enc from plugins-ugly),
# tshark (wire dissection), iproute2 (network namespaces for discovery tests),
# openssl (a test certificate for the centre's TLS), systemd (systemd-analyze verifies the units)
# and util-linux (setpriv runs the installed services unprivileged).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q \
  chromium ffmpeg \
  gstreamer1.0-tools gstreamer1.0-rtsp gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
  python3-gi gir1.2-gst-rtsp-server-1.0 \
  tshark iproute2 procps openssl \
  systemd util-linux
