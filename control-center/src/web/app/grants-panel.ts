import type { SessionBody } from '../../auth/auth-schemas';
import type { GrantChange } from '../../grants/grant-service';
import type { GrantView } from '../../grants/grant-view';
import { type Lang, t } from './i18n';

/**
 * The grants strip of the live page: the grants the account may see that are running or
 * waiting, each with its case reference and the time left; an emergency button for school
 * IT; "end" buttons for whoever may end a grant (the centre decides; the page only offers).
 * Grant changes arrive pushed over the viewer socket; the list is loaded once at sign-in.
 */
export class GrantsPanel {
  private readonly grants = new Map<string, GrantView>();
  private readonly list = document.getElementById('grants')!;
  private readonly notice = document.getElementById('notice')!;
  private readonly emergencyButton = document.getElementById('emergency') as HTMLButtonElement;
  private readonly form = document.getElementById('grant-form') as HTMLFormElement;
  private ticker: number | undefined;

  constructor(
    private readonly lang: () => Lang,
    private readonly session: () => SessionBody | null,
    /** Called when the grants covering cameras changed (tile labels carry the case reference). */
    private readonly onChanged: () => void,
  ) {
    this.emergencyButton.onclick = () => void this.raiseEmergency();
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const data = new FormData(this.form);
      const field = (name: string): string => {
        const v = data.get(name);
        return typeof v === 'string' ? v.trim() : '';
      };
      void this.post('/api/grants', {
        forceId: field('forceId'),
        schoolId: field('schoolId'),
        caseRef: field('caseRef'),
        reason: field('reason'),
        legalBasis: field('legalBasis'),
        minutes: Number(field('minutes')),
      });
    });
  }

  /** Loads the grants after sign-in and shows the emergency button to school IT. */
  async load(): Promise<void> {
    const s = this.session();
    this.emergencyButton.hidden = s?.user.role !== 'school_it';
    this.form.hidden = s?.user.role !== 'operator';
    if (!this.form.hidden) await this.fillForm();
    this.grants.clear();
    const res = await fetch('/api/grants').catch(() => undefined);
    if (res?.ok) for (const g of ((await res.json()) as { grants: GrantView[] }).grants) this.grants.set(g.id, g);
    window.clearInterval(this.ticker);
    this.ticker = window.setInterval(() => this.render(), 15_000);
    this.render();
    this.onChanged();
  }

  clear(): void {
    window.clearInterval(this.ticker);
    this.grants.clear();
    this.emergencyButton.hidden = true;
    this.form.hidden = true;
    this.notice.textContent = '';
    this.render();
  }

  /** A pushed change. */
  update(change: GrantChange, g: GrantView): void {
    this.grants.set(g.id, g);
    if (change === 'emergency') this.say(t(this.lang(), 'grant.emergency', { school: g.schoolIds.join(', '), force: g.forceId }));
    else if (change === 'ended') this.say(t(this.lang(), g.state === 'expired' ? 'grant.expiredNotice' : 'grant.revokedNotice', { caseRef: g.caseRef }));
    this.render();
    this.onChanged();
  }

  /** A live view was cut because its grant ended: say so where it stays visible. */
  viewCut(grantId: string | undefined, grantEnd: 'expired' | 'revoked' | undefined): void {
    const caseRef = (grantId && this.grants.get(grantId)?.caseRef) ?? '';
    this.say(t(this.lang(), grantEnd === 'expired' ? 'grant.expiredNotice' : 'grant.revokedNotice', { caseRef }));
  }

  /** The case reference of the running grant covering a camera, if any. */
  caseRefFor(cameraId: string): string | undefined {
    for (const g of this.grants.values()) if (g.state === 'active' && g.cameraIds.includes(cameraId)) return g.caseRef;
    return undefined;
  }

  get noticeText(): string {
    return this.notice.textContent ?? '';
  }

  active(): GrantView[] {
    return [...this.grants.values()].filter((g) => g.state === 'active');
  }

  render(): void {
    const lang = this.lang();
    const now = Date.now();
    const running = [...this.grants.values()].filter((g) => g.state === 'active' || g.state === 'pending' || g.state === 'requested');
    this.list.replaceChildren(
      ...running.map((g) => {
        const li = document.createElement('li');
        li.dataset.grant = g.id;
        li.className = g.emergency ? 'emergency' : '';
        const left = g.expiresAt === null ? t(lang, `grant.state.${g.state}`) : t(lang, 'grant.left', { min: Math.max(0, Math.ceil((g.expiresAt - now) / 60_000)) });
        const text = document.createElement('span');
        text.textContent = `${g.emergency ? `${t(lang, 'grant.emergencyLabel')} · ` : ''}${t(lang, 'grant.caseRef')} ${g.caseRef} · ${g.forceId} · ${g.cameraIds.length} ${t(lang, 'grant.cameras')} · ${left}`;
        li.append(text);
        const role = this.session()?.user.role;
        if (role === 'operator' || role === 'admin' || (role === 'school_it' && g.emergency)) {
          const end = document.createElement('button');
          end.textContent = t(lang, 'grant.end');
          end.onclick = () => void this.post(`/api/grants/${g.id}/revoke`);
          li.append(end);
        }
        return li;
      }),
    );
  }

  /** The forces and schools an operator can share between. */
  private async fillForm(): Promise<void> {
    const res = await fetch('/api/orgs').catch(() => undefined);
    if (!res?.ok) return;
    const orgs = ((await res.json()) as { orgs: { id: string; kind: string; name: string }[] }).orgs;
    for (const [name, kind] of [['forceId', 'police'], ['schoolId', 'school']] as const) {
      const select = this.form.elements.namedItem(name) as HTMLSelectElement;
      select.replaceChildren(
        ...orgs
          .filter((o) => o.kind === kind)
          .map((o) => {
            const opt = document.createElement('option');
            opt.value = o.id;
            opt.textContent = o.name;
            return opt;
          }),
      );
    }
  }

  private say(text: string): void {
    this.notice.textContent = text;
  }

  private async raiseEmergency(): Promise<void> {
    const s = this.session();
    if (!s) return;
    await this.post(`/api/schools/${encodeURIComponent(s.user.org)}/emergency`, {});
  }

  private async post(path: string, body?: unknown): Promise<void> {
    const csrf = this.session()?.csrfToken ?? '';
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch(() => undefined);
    if (!res?.ok) this.say(t(this.lang(), 'grant.actionFailed'));
  }
}
