#!/usr/bin/env python3
"""GStreamer's RTSP server (gst-rtsp-server via python3-gi): a real third-party camera for our RTSP
client and the gateway. Like a plain RTSP camera it cannot make a key frame on request.

Usage: gst-rtsp-server.py [--auth digest|basic USER PASSWORD] [--size 320x240] [--fps 15]
                          [--gop-seconds 1] [--bitrate 500] [--bframes 0] [--aac] [--pattern ball]

Binds 127.0.0.1 on a kernel-chosen port, serves a live H.264 test pattern (x264enc, from
gstreamer1.0-plugins-ugly; openh264enc when x264 is missing and no B-frames are asked for) at /cam,
with an AAC audio track when --aac, prints "PORT <n>" on stdout, and runs until SIGTERM/SIGINT or
until stdin closes (so it dies with the test process even if the test is killed).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def launch_line(args: argparse.Namespace) -> str:
    width, height = (int(x) for x in args.size.split("x"))
    gop = max(1, round(args.fps * args.gop_seconds))
    # `ball` moves a little and compresses to almost nothing; `snow` is noise, which no encoder can
    # compress below the bitrate asked for (what a busy corridor costs a real camera).
    source = f"videotestsrc is-live=true pattern={args.pattern} ! video/x-raw,width={width},height={height},framerate={args.fps}/1"
    if Gst.ElementFactory.find("x264enc") is not None:
        # zerolatency turns B-frames and lookahead off; with --bframes the encoder keeps its
        # defaults otherwise, as a camera's "smart codec" mode would.
        tune = "tune=zerolatency " if args.bframes == 0 else f"bframes={args.bframes} b-adapt=false "
        encoder = f"x264enc {tune}key-int-max={gop} bitrate={args.bitrate} speed-preset=ultrafast ! video/x-h264,profile=high"
        name = "x264enc"
    elif Gst.ElementFactory.find("openh264enc") is not None and args.bframes == 0:
        encoder = f"openh264enc gop-size={gop} bitrate={args.bitrate * 1000} ! h264parse"
        name = "openh264enc"
    else:
        sys.stderr.write("ERR: no usable H.264 encoder: install gstreamer1.0-plugins-ugly (x264enc)\n")
        sys.exit(1)
    sys.stderr.write(f"gst-rtsp-server.py: encoding with {name}\n")
    video = f"{source} ! {encoder} ! rtph264pay name=pay0 pt=96 config-interval=-1"
    if not args.aac:
        return f"( {video} )"
    if Gst.ElementFactory.find("avenc_aac") is None:
        sys.stderr.write("ERR: --aac needs avenc_aac (gstreamer1.0-libav)\n")
        sys.exit(1)
    audio = "audiotestsrc is-live=true wave=ticks ! audio/x-raw,rate=16000,channels=1 ! audioconvert ! avenc_aac ! rtpmp4gpay name=pay1 pt=97"
    return f"( {video} {audio} )"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--auth", nargs=3, metavar=("METHOD", "USER", "PASSWORD"))
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--gop-seconds", type=float, default=1.0)
    parser.add_argument("--bitrate", type=int, default=500, help="kbit/s")
    parser.add_argument("--bframes", type=int, default=0)
    parser.add_argument("--aac", action="store_true")
    parser.add_argument("--pattern", default="ball", help="videotestsrc pattern: ball, snow, smpte…")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args))
    factory.set_shared(True)

    if args.auth:
        method, user, password = args.auth
        if method not in ("digest", "basic"):
            parser.error("--auth METHOD is digest or basic")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        if method == "digest":
            auth.add_digest(user, password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        sys.stderr.write("ERR: could not attach the RTSP server\n")
        sys.exit(1)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_HUP | GLib.IO_ERR | GLib.IO_IN, lambda *_: (loop.quit(), False)[1])

    print(f"PORT {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
