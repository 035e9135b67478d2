import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { CameraView } from '../../../../cameras/camera-view';
import type { CheckResult, DiscoveredDevice } from '@schoolcam/protocol/link/link-messages';
import { api } from '../../api';
import { Notice, useNotice } from '../../components/notice';
import { OrgOptions } from '../../components/org-options';
import { Page } from '../../components/page';
import { fmtAge, fmtNumber, lang, t } from '../../i18n';
import { href, navigate } from '../../router';
import { session } from '../../session';
import { now } from '../../stores/clock';
import { cameras, orgs } from '../../stores/store';
import { VideoTile } from '../live/video-tile';
import { CameraFactsFields, type FactsDraft, factsBody } from './camera-facts';

type Step = 'discover' | 'credentials' | 'check' | 'facts' | 'done';
const STEPS: readonly Step[] = ['discover', 'credentials', 'check', 'facts', 'done'];

interface GatewayBrief {
  id: string;
  name: string;
  online: boolean;
  lastSeenAt: number | null;
}

/** The wizard's draft, kept while the person moves between screens (never the password beyond this page's life). */
interface Draft {
  schoolId: string;
  devices: DiscoveredDevice[] | null;
  /** The camera's ONVIF device service (`http…`) or RTSP URL (`rtsp://…`). */
  url: string;
  deviceName: string;
  username: string;
  password: string;
  result: CheckResult | null;
  facts: FactsDraft;
  registered: CameraView | null;
}

const blank = (schoolId: string): Draft => ({
  schoolId,
  devices: null,
  url: '',
  deviceName: '',
  username: '',
  password: '',
  result: null,
  facts: { name: '', purpose: '', legalBasis: '', retentionHours: '72', schedule: '' },
  registered: null,
});

const step = signal<Step>('discover');
const draft = signal<Draft>(blank(''));

function update(patch: Partial<Draft>): void {
  draft.value = { ...draft.value, ...patch };
}

/**
 * School IT's registration wizard: discover through the school's gateway → pick a device →
 * credentials → check and grade (with the reasons in words) → purpose, legal basis and
 * retention → register; then the new camera plays. An administrator picks the school first.
 */
export function RegisterScreen() {
  const user = session.value!.user;
  const isAdmin = user.role === 'admin';
  const schools = orgs.value.filter((o) => o.kind === 'school');
  useEffect(() => {
    if (!draft.value.schoolId) update({ schoolId: isAdmin ? (schools[0]?.id ?? '') : (user.org ?? '') });
  }, [schools.length]);
  const d = draft.value;
  const at = STEPS.indexOf(step.value);
  return (
    <Page
      title={t('register.title')}
      aside={
        <div class="head-actions">
          <a class="button" href={href('/cameras')}>
            {t('register.toCameras')}
          </a>
        </div>
      }
    >
      <ol class="steps" aria-label={t('register.steps')}>
        {STEPS.map((s, i) => (
          <li key={s} class={i === at ? 'current' : i < at ? 'past' : ''} aria-current={i === at ? 'step' : undefined}>
            {t(`register.step.${s}`)}
          </li>
        ))}
      </ol>
      {isAdmin && step.value === 'discover' && (
        <label class="school-choice">
          {t('register.school')}{' '}
          <select id="register-school" value={d.schoolId} onChange={(e) => (draft.value = blank((e.target as HTMLSelectElement).value))}>
            <OrgOptions orgs={schools} />
          </select>
        </label>
      )}
      {step.value === 'discover' && <DiscoverStep />}
      {step.value === 'credentials' && <CredentialsStep />}
      {step.value === 'check' && <CheckStep />}
      {step.value === 'facts' && <FactsStep />}
      {step.value === 'done' && <DoneStep />}
    </Page>
  );
}

function DiscoverStep() {
  const d = draft.value;
  const [gateways, setGateways] = useState<GatewayBrief[] | null>(null);
  const [range, setRange] = useState('');
  const [multicast, setMulticast] = useState(true);
  const [busy, setBusy] = useState(false);
  const [manual, setManual] = useState('');
  const note = useNotice();
  useEffect(() => {
    if (!d.schoolId) return;
    api<{ gateways: GatewayBrief[] }>('GET', `/api/schools/${encodeURIComponent(d.schoolId)}/gateways`).then(
      (r) => setGateways(r.gateways),
      (err: unknown) => note.fail(err),
    );
  }, [d.schoolId]);
  const search = (e: Event): void => {
    e.preventDefault();
    note.clear();
    setBusy(true);
    const body: Record<string, unknown> = { multicast: range.trim() === '' ? true : multicast, timeoutMs: 3000 };
    if (range.trim()) body.range = range.trim().includes('-') || range.includes('/') ? range.trim() : `${range.trim()}-${range.trim()}`;
    api<{ gatewayId: string; devices: DiscoveredDevice[] }>('POST', `/api/schools/${encodeURIComponent(d.schoolId)}/discover`, body)
      .then((r) => update({ devices: r.devices }), (err: unknown) => note.fail(err))
      .finally(() => setBusy(false));
  };
  const registered = new Set(cameras.value.map((c) => c.registration?.source).filter((x): x is string => !!x));
  const pick = (url: string, name: string): void => {
    update({ url, deviceName: name, result: null, facts: { ...d.facts, name: d.facts.name || name } });
    step.value = 'credentials';
  };
  return (
    <div class="wizard-step panel" id="step-discover">
      <h2>{t('register.step.discover')}</h2>
      <p class="muted">{t('register.discoverHelp')}</p>
      <p id="gateway-state">
        {gateways === null
          ? t('common.loading')
          : gateways.length === 0
            ? t('register.noGateway')
            : gateways.map((g) => (
                <span key={g.id} class={`badge ${g.online ? 'ok' : 'down'}`}>
                  {g.name}: {g.online ? t('register.gatewayOnline') : t('register.gatewayOffline', { seen: g.lastSeenAt ? fmtAge(g.lastSeenAt, now.value) : '—' })}
                </span>
              ))}
      </p>
      <form class="form-grid" onSubmit={search} id="discover-form">
        <label>
          {t('register.range')}
          <input name="range" value={range} onInput={(e) => setRange((e.target as HTMLInputElement).value)} placeholder="192.168.10.1-192.168.10.254" pattern="[0-9./\-]{7,64}" />
        </label>
        <label class="check">
          <input type="checkbox" name="multicast" checked={multicast} onChange={(e) => setMulticast((e.target as HTMLInputElement).checked)} />
          {t('register.multicast')}
        </label>
        <button type="submit" class="primary" disabled={busy || !d.schoolId}>
          {busy ? t('register.searching') : t('register.search')}
        </button>
      </form>
      <Notice message={note.message} />
      {d.devices !== null &&
        (d.devices.length === 0 ? (
          <p class="empty">{t('register.nothingFound')}</p>
        ) : (
          <ul class="device-list" id="device-list" aria-label={t('register.found')}>
            {d.devices.map((dev) => {
              const known = registered.has(dev.xaddr);
              return (
                <li key={dev.endpoint} data-xaddr={dev.xaddr}>
                  <div>
                    <strong>{dev.name ?? t('register.unnamed')}</strong> <span class="muted">{dev.hardware ?? ''}</span>
                    <div class="muted small">
                      {dev.address} · {dev.xaddr}
                      {dev.location ? ` · ${dev.location}` : ''}
                    </div>
                  </div>
                  {known ? (
                    <span class="badge neutral">{t('register.already')}</span>
                  ) : (
                    <button type="button" class="pick" onClick={() => pick(dev.xaddr, dev.name ?? '')} aria-label={`${t('register.pick')}: ${dev.name ?? dev.xaddr}`}>
                      {t('register.pick')}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        ))}
      <form
        class="form-grid manual"
        onSubmit={(e) => {
          e.preventDefault();
          pick(manual.trim(), '');
        }}
      >
        <label>
          {t('register.manual')}
          <input name="url" value={manual} onInput={(e) => setManual((e.target as HTMLInputElement).value)} placeholder="http://192.168.10.20/onvif/device_service" pattern="(rtsp|https?)://\S+" required />
        </label>
        <button type="submit">{t('register.useAddress')}</button>
      </form>
    </div>
  );
}

function CredentialsStep() {
  const d = draft.value;
  const submit = (e: Event): void => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const field = (name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;
    update({ username: field('camera-user'), password: field('camera-password'), result: null });
    step.value = 'check';
  };
  return (
    <form class="wizard-step panel form-grid" id="step-credentials" onSubmit={submit}>
      <h2>{t('register.step.credentials')}</h2>
      <p class="muted span-all">
        {d.deviceName ? `${d.deviceName} · ` : ''}
        {d.url}
      </p>
      <p class="muted span-all">{t('register.credentialsHelp')}</p>
      <label>
        {t('register.cameraUser')}
        <input name="camera-user" defaultValue={d.username} autoComplete="off" />
      </label>
      <label>
        {t('register.cameraPassword')}
        <input name="camera-password" type="password" defaultValue={d.password} autoComplete="new-password" />
      </label>
      <div class="wizard-buttons span-all">
        <button type="button" onClick={() => (step.value = 'discover')}>
          {t('common.back')}
        </button>
        <button type="submit" class="primary">
          {t('register.check')}
        </button>
      </div>
    </form>
  );
}

function CheckStep() {
  const d = draft.value;
  const note = useNotice();
  const [busy, setBusy] = useState(false);
  const run = (): void => {
    note.clear();
    setBusy(true);
    const body: Record<string, unknown> = { url: d.url };
    if (d.username) body.username = d.username;
    if (d.password) body.password = d.password;
    api<{ gatewayId: string; result: CheckResult }>('POST', `/api/schools/${encodeURIComponent(d.schoolId)}/check`, body)
      .then((r) => update({ result: r.result }), (err: unknown) => note.fail(err))
      .finally(() => setBusy(false));
  };
  useEffect(() => {
    if (!d.result) run();
  }, []);
  const r = d.result;
  return (
    <div class="wizard-step panel" id="step-check">
      <h2>{t('register.step.check')}</h2>
      {busy && (
        <p role="status" class="muted">
          {t('register.checking')}
        </p>
      )}
      <Notice message={note.message} />
      {r && <Grade result={r} />}
      <div class="wizard-buttons">
        <button type="button" onClick={() => (step.value = 'credentials')}>
          {t('common.back')}
        </button>
        {!busy && (
          <button type="button" onClick={run}>
            {t('register.checkAgain')}
          </button>
        )}
        <button type="button" class="primary" id="to-facts" disabled={!r || r.grade === 'not_supported'} onClick={() => (step.value = 'facts')}>
          {t('common.next')}
        </button>
      </div>
    </div>
  );
}

/** The grade and its reasons in the page's language, and what was measured. */
function Grade({ result: r }: { result: CheckResult }) {
  const tone = r.grade === 'ready' ? 'ok' : r.grade === 'works_with_reasons' ? 'pending' : 'down';
  const dash = t('common.none');
  const facts: [string, string][] = [
    [t('register.codec'), [r.codec, r.profile].filter(Boolean).join(' ') || dash],
    [t('register.size'), r.width && r.height ? `${r.width}×${r.height}` : dash],
    [t('register.fps'), r.fps !== null ? fmtNumber(Math.round(r.fps * 10) / 10) : dash],
    [t('register.gop'), r.gopSeconds !== null ? `${fmtNumber(Math.round(r.gopSeconds * 10) / 10)} s` : dash],
    [t('register.bframes'), r.bframes === null ? dash : t(r.bframes ? 'common.yes' : 'common.no')],
    [t('register.bitrate'), r.bitrateKbps !== null ? `${fmtNumber(Math.round(r.bitrateKbps))} kb/s` : dash],
    [t('register.audio'), r.audioCodec ?? dash],
    [t('register.keyframeOnDemand'), t(r.keyframeOnDemand ? 'common.yes' : 'common.no')],
  ];
  return (
    <div class="grade" id="grade" data-grade={r.grade}>
      <p class={`grade-line ${tone}`}>
        <span class={`badge ${tone}`}>{t(`register.grade.${r.grade}`)}</span> {t(`register.gradeHelp.${r.grade}`)}
      </p>
      {r.reasons.length === 0 ? (
        <p class="muted">{t('register.noRemarks')}</p>
      ) : (
        <ul class="reasons" id="grade-reasons">
          {r.reasons.map((x) => (
            <li key={x.code} data-code={x.code}>
              {x[lang.value]}
            </li>
          ))}
        </ul>
      )}
      <dl class="measured">
        {facts.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function FactsStep() {
  const d = draft.value;
  const note = useNotice();
  const [busy, setBusy] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    note.clear();
    setBusy(true);
    const login = { ...(d.username ? { username: d.username } : {}), ...(d.password ? { password: d.password } : {}) };
    const source = d.url.startsWith('rtsp://') ? { rtsp: { url: d.url, ...login } } : { onvif: { xaddr: d.url, username: d.username, password: d.password } };
    const body = { name: d.facts.name.trim(), ...source, ...factsBody(d.facts) };
    api<{ camera: CameraView }>('POST', `/api/schools/${encodeURIComponent(d.schoolId)}/cameras`, body)
      .then((r) => {
        // The password is no longer needed on this page.
        update({ registered: r.camera, password: '' });
        step.value = 'done';
      }, (err: unknown) => note.fail(err))
      .finally(() => setBusy(false));
  };
  return (
    <form class="wizard-step panel form-grid" id="step-facts" onSubmit={submit}>
      <h2>{t('register.step.facts')}</h2>
      <p class="muted span-all">{t('register.factsHelp')}</p>
      <label>
        {t('register.name')}
        <input name="name" required minLength={1} maxLength={100} value={d.facts.name} onInput={(e) => update({ facts: { ...d.facts, name: (e.target as HTMLInputElement).value } })} />
      </label>
      <CameraFactsFields value={d.facts} onChange={(facts) => update({ facts })} />
      <Notice message={note.message} />
      <div class="wizard-buttons span-all">
        <button type="button" onClick={() => (step.value = 'check')}>
          {t('common.back')}
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('register.registering') : t('register.register')}
        </button>
      </div>
    </form>
  );
}

function DoneStep() {
  const d = draft.value;
  const cam = d.registered ? (cameras.value.find((c) => c.id === d.registered!.id) ?? null) : null;
  return (
    <div class="wizard-step panel" id="step-done">
      <h2>{t('register.doneTitle', { name: d.registered?.name ?? '' })}</h2>
      <p class="muted">{t('register.doneHelp')}</p>
      {cam?.live ? (
        <div class="preview">
          <VideoTile camera={cam} profile="main" index={1} onOpenSingle={() => navigate('/live', { camera: cam.id })} />
        </div>
      ) : (
        <p role="status">{t('register.waiting')}</p>
      )}
      <div class="wizard-buttons">
        <button
          type="button"
          onClick={() => {
            draft.value = blank(d.schoolId);
            step.value = 'discover';
          }}
        >
          {t('register.another')}
        </button>
        <a class="button" href={href('/cameras')}>
          {t('register.toCameras')}
        </a>
      </div>
    </div>
  );
}
