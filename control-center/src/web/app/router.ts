import { signal } from '@preact/signals';

/**
 * A small hash router: `#/live?camera=…`. Hash routes need no server route per screen and
 * survive reloads and bookmarks; which screens a role may open is decided by the shell
 * (and, for the data behind them, by the centre).
 */
export interface Route {
  path: string;
  params: URLSearchParams;
}

function parse(): Route {
  const raw = location.hash.replace(/^#/, '');
  const [path, query] = raw.split('?', 2);
  return { path: path && path.startsWith('/') ? path : '/', params: new URLSearchParams(query ?? '') };
}

export const route = signal<Route>(parse());
window.addEventListener('hashchange', () => {
  route.value = parse();
});

export function href(path: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#${path}${q ? `?${q}` : ''}`;
}

export function navigate(path: string, params: Record<string, string> = {}): void {
  const next = href(path, params);
  if (location.hash === next) route.value = parse();
  else location.hash = next;
}
