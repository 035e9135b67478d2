import type { ComponentChildren } from 'preact';

/** A screen's frame: its heading (with a count or actions beside it) and its content. */
export function Page({ title, aside, children }: { title: string; aside?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="page">
      <div class="page-head">
        <h1>{title}</h1>
        {aside}
      </div>
      {children}
    </section>
  );
}
