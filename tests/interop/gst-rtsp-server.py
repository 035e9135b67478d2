#!/usr/bin/env python3
"""GStreamer's RTSP server (gst-rtsp-server via python3-gi), a real peer for our RtspClient.

Usage: gst-rtsp-server.py [--auth digest|basic USER PASSWORD]

Binds 127.0.0.1 on a kernel-chosen port, serves a live 320x240 15 fps H.264 test pattern
at /cam, prints "PORT <n>" on stdout, and runs until SIGTERM/SIGINT or until stdin closes
(so it dies with the test process even if the test is killed).
"""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

SOURCE = "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1"
# x264enc lives in gst-plugins-ugly, which some machines lack; openh264enc (plugins-bad) is the fallback.
ENCODERS = {
    "x264enc": "x264enc tune=zerolatency key-int-max=15",
    "openh264enc": "openh264enc gop-size=15 ! h264parse",
}


def launch_line() -> str:
    for name, pipeline in ENCODERS.items():
        if Gst.ElementFactory.find(name) is not None:
            sys.stderr.write(f"gst-rtsp-server.py: encoding with {name}\n")
            return f"( {SOURCE} ! {pipeline} ! rtph264pay name=pay0 pt=96 )"
    sys.stderr.write("ERR: no H.264 encoder element (x264enc or openh264enc) is installed\n")
    sys.exit(1)


def main() -> None:
    Gst.init(None)
    args = sys.argv[1:]
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line())
    factory.set_shared(True)

    if len(args) == 4 and args[0] == "--auth":
        method, user, password = args[1], args[2], args[3]
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
    elif args:
        sys.stderr.write(__doc__)
        sys.exit(2)

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
