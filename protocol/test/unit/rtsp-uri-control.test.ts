import { describe, expect, it } from 'vitest';
import { RtspStreamParser } from '../../src/rtsp/rtsp-message';

describe('RTSP request-URI', () => {
  it('is refused with a typed error when it carries a control character (it would be echoed into Content-Base)', () => {
    const { frames, error } = new RtspStreamParser().push(Buffer.from('DESCRIBE rtsp://h:554/main\r RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
    expect(frames).toEqual([]);
    expect(error?.code).toBe('RTSP_BAD_REQUEST');
  });
});
