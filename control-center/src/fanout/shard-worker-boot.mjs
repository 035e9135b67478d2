// Boots a fan-out shard's worker thread. The centre runs its TypeScript through tsx, whose
// loader hooks a Node 20 worker thread does not inherit: register them here, then load the
// shard. (Compiled to JavaScript, the entry would be imported directly.)
import { register } from 'tsx/esm/api';

register();
await import(new URL('./shard-worker.ts', import.meta.url).href);
