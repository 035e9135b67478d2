/** The `onvif` package's SOAP parsing helpers (lib/utils.js), untyped upstream; used by tests that fuzz what the adapter reads. */
declare module 'onvif/lib/utils' {
  export function parseSOAPString(xml: string, callback: (err: unknown, body: unknown, xml: string, statusCode: number) => void, statusCode: number): void;
  export function linerase(xml: unknown): unknown;
}
