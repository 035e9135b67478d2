export interface RtspGrantAccess {
  /** Digest lookup: the grant credentials for this RTSP user name, or undefined when unknown/expired/revoked. */
  lookup(username: string): { grantId: string; caseRef: string; forceId: string; ha1: string; cameraIds: readonly string[] } | undefined;
}
