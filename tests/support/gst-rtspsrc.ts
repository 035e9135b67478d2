import { spawn } from 'node:child_process';

/**
 * Drives GStreamer's rtspsrc like `gst-launch-1.0 rtspsrc … ! rtph264depay ! h264parse !
 * avdec_h264 ! identity eos-after=N ! fakesink`, but shuts down in order. gst-launch sets
 * the pipeline straight to NULL at EOS: rtspsrc queues an async PAUSE (PLAYING→PAUSED),
 * then PAUSED→READY cancels it and sends TEARDOWN, and under load the cancelled PAUSE
 * reports "Could not send message. (Received end-of-file)" from rtspsrc's own closed socket
 * (seen in a capture: no PAUSE on the wire, TEARDOWN answered 200, the client's FIN first).
 * Here the PAUSE is awaited (its reply is asserted), then READY sends TEARDOWN, and any
 * error on the bus fails the run.
 */
const GST_RTSPSRC_DRIVER = `
import sys, gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst
Gst.init(None)
location, protocols, user, pw, frames = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
pipe = Gst.parse_launch('rtspsrc name=src ! rtph264depay ! h264parse ! avdec_h264 ! identity eos-after=%d ! fakesink' % frames)
src = pipe.get_by_name('src')
src.set_property('location', location)
Gst.util_set_object_arg(src, 'protocols', protocols)
if user:
    src.set_property('user-id', user)
    src.set_property('user-pw', pw)
bus = pipe.get_bus()
def check(msg):
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print('ERROR: %s (%s)' % (err.message, dbg), flush=True)
        sys.exit(1)
    if msg.type == Gst.MessageType.PROGRESS:
        kind, code, text = msg.parse_progress()
        print('progress %s %s: %s' % (kind.value_nick, code, text), flush=True)
def wait(what, pred, timeout_s):
    while True:
        msg = bus.timed_pop(int(timeout_s * Gst.SECOND))
        if msg is None:
            print('TIMEOUT waiting for %s' % what, flush=True)
            sys.exit(2)
        check(msg)
        if pred(msg):
            return
def pause_done(m):
    if m.type != Gst.MessageType.PROGRESS or m.src != src:
        return False
    kind, code, text = m.parse_progress()
    return kind == Gst.ProgressType.COMPLETE and 'PAUSE' in text
pipe.set_state(Gst.State.PLAYING)
wait('EOS', lambda m: m.type == Gst.MessageType.EOS, 20)
print('Got EOS', flush=True)
pipe.set_state(Gst.State.PAUSED)
wait('the PAUSE reply', pause_done, 10)
pipe.set_state(Gst.State.READY)
while True:
    msg = bus.pop()
    if msg is None:
        break
    check(msg)
pipe.set_state(Gst.State.NULL)
print('closed cleanly', flush=True)
`;

/** The distro python has python3-gi; a pyenv/venv python3 earlier on PATH usually does not. */
export const PYTHON = '/usr/bin/python3';

/** Plays `location` with rtspsrc until `frames` frames are decoded, then PAUSE, TEARDOWN. */
export async function gstDecode(location: string, protocols: 'tcp' | 'udp', user: string, password: string, frames = 60): Promise<{ code: number | null; output: string }> {
  const child = spawn(PYTHON, ['-c', GST_RTSPSRC_DRIVER, location, protocols, user, password, String(frames)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, output };
}

