/** WebSocket close code the centre sends after `signed-out` (browser-safe: no schema code, so the page can import it). */
export const CLOSE_SIGNED_OUT = 4401;
