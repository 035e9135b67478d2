import type { CheckGrade, CheckReason, CheckResult } from '@schoolcam/protocol/link/link-messages';

/** What `check` measured of a camera, before grading. Unknown values are null. */
export type CameraFacts = Omit<CheckResult, 'grade' | 'reasons'> & {
  /** key frames seen while sampling */
  keyframesSeen: number;
  /** how long the stream was sampled, ms */
  sampledMs: number;
};

interface Finding {
  code: string;
  blocks: boolean;
  en: string;
  cs: string;
}

const PROFILES_BROWSERS_DECODE = new Set(['Constrained Baseline', 'Baseline', 'Main', 'High', 'Extended']);

/**
 * Grades a camera for live view in the browser, with reasons school IT can act on:
 * `not_supported` when a browser cannot show the stream at all, `works_with_reasons` when it
 * can but something costs first-frame time, smoothness, bandwidth or sound, else `ready`.
 * Each reason says what is wrong and what to change, in English and Czech.
 */
export function gradeCamera(f: CameraFacts): { grade: CheckGrade; reasons: CheckReason[] } {
  const found: Finding[] = [];
  const add = (code: string, blocks: boolean, en: string, cs: string): void => void found.push({ code, blocks, en, cs });
  const codec = f.codec?.toUpperCase() ?? null;
  if (codec === null) {
    add('NO_VIDEO', true, 'The camera offers no video stream the gateway can read.', 'Kamera nenabízí žádný videostream, který by brána dokázala číst.');
  } else if (codec === 'H265' || codec === 'HEVC') {
    add(
      'H265',
      true,
      'The camera sends H.265, which most browsers cannot play live. Switch this stream (or the camera’s sub stream) to H.264 in the camera’s video settings.',
      'Kamera posílá H.265, které většina prohlížečů živě nepřehraje. V nastavení videa kamery přepněte tento stream (nebo vedlejší stream) na H.264.',
    );
  } else if (codec !== 'H264') {
    add(
      'CODEC',
      true,
      `The camera sends ${f.codec} video; live view needs H.264. Switch the stream to H.264 in the camera’s video settings.`,
      `Kamera posílá video ve formátu ${f.codec}; živý obraz potřebuje H.264. V nastavení videa kamery přepněte stream na H.264.`,
    );
  }
  if (codec === 'H264' && f.profile !== null && !PROFILES_BROWSERS_DECODE.has(f.profile)) {
    add(
      'PROFILE',
      true,
      `The H.264 profile “${f.profile}” cannot be decoded by browsers. Choose the Main or High profile in the camera’s video settings.`,
      `Profil H.264 „${f.profile}“ prohlížeče neumí dekódovat. V nastavení videa kamery zvolte profil Main nebo High.`,
    );
  }
  if (f.bframes === true) {
    add(
      'BFRAMES',
      true,
      'The camera uses B-frames, which browsers play out of order in live view. Turn B-frames off (often called “smart codec”, “H.264+” or “B-frame”) in the camera’s video settings.',
      'Kamera používá B-snímky, které prohlížeč v živém obrazu přehrává ve špatném pořadí. V nastavení videa kamery B-snímky vypněte (často „smart codec“, „H.264+“ nebo „B-frame“).',
    );
  }
  if (codec === 'H264' && f.keyframesSeen === 0) {
    const s = Math.round(f.sampledMs / 1000);
    if (f.keyframeOnDemand) {
      add(
        'NO_KEYFRAME',
        false,
        `The camera sent no key frame in ${s} s on its own; the gateway has to ask it for each one. Set its key-frame interval (GOP) to 1–2 s.`,
        `Kamera za ${s} s sama neposlala žádný klíčový snímek; brána si o každý musí říct. Nastavte interval klíčových snímků (GOP) na 1–2 s.`,
      );
    } else {
      add(
        'NO_KEYFRAME',
        true,
        `The camera sent no key frame in ${s} s, so a browser cannot start the picture. Set its key-frame interval (GOP) to 1–2 s.`,
        `Kamera za ${s} s neposlala žádný klíčový snímek, takže prohlížeč nemůže začít zobrazovat. Nastavte interval klíčových snímků (GOP) na 1–2 s.`,
      );
    }
  }
  if (f.gopSeconds !== null && f.gopSeconds > (f.keyframeOnDemand ? 5 : 2)) {
    const g = fmt(f.gopSeconds);
    add(
      'GOP_LONG',
      false,
      f.keyframeOnDemand
        ? `Key frames come every ${g} s: after a network hiccup the picture takes up to ${g} s to recover. Set the key-frame interval (GOP) to 1–2 s.`
        : `Key frames come every ${g} s and this camera cannot make one on request: a new viewer may wait up to ${g} s for the picture. Set the key-frame interval (GOP) to 1–2 s, or add the camera through ONVIF.`,
      f.keyframeOnDemand
        ? `Klíčové snímky přicházejí každých ${g} s: po výpadku sítě se obraz obnoví až za ${g} s. Nastavte interval klíčových snímků (GOP) na 1–2 s.`
        : `Klíčové snímky přicházejí každých ${g} s a kamera je neumí poslat na vyžádání: nový divák může na obraz čekat až ${g} s. Nastavte interval klíčových snímků (GOP) na 1–2 s, nebo kameru přidejte přes ONVIF.`,
    );
  }
  if (f.fps !== null && f.fps > 0 && f.fps < 5) {
    add('FPS_LOW', false, `Only ${fmt(f.fps)} frames per second: movement will look jerky. Set 10–15 fps.`, `Jen ${fmt(f.fps)} snímků za sekundu: pohyb bude trhaný. Nastavte 10–15 snímků/s.`);
  } else if (f.fps !== null && f.fps > 31) {
    add('FPS_HIGH', false, `${fmt(f.fps)} frames per second costs bandwidth for little gain in supervision. 15 fps is enough.`, `${fmt(f.fps)} snímků za sekundu zbytečně zatěžuje síť. Pro dohled stačí 15 snímků/s.`);
  }
  if (f.width !== null && f.height !== null) {
    if (f.width * f.height > 1920 * 1088) {
      add(
        'RESOLUTION_HIGH',
        false,
        `${f.width}×${f.height} is more than a live grid needs and loads the school’s uplink. Use the camera’s sub stream (profile “sub”) for live view, or 1920×1080 at most.`,
        `${f.width}×${f.height} je víc, než živá mřížka potřebuje, a zatěžuje připojení školy. Pro živý obraz použijte vedlejší stream kamery (profil „sub“), nebo nejvýše 1920×1080.`,
      );
    } else if (f.width * f.height < 320 * 180) {
      add('RESOLUTION_LOW', false, `${f.width}×${f.height} is too small to recognise people. Use at least 640×360.`, `${f.width}×${f.height} je příliš malé na rozpoznání osob. Použijte alespoň 640×360.`);
    }
  }
  if (f.bitrateKbps !== null && f.bitrateKbps > 8000) {
    const mb = fmt(f.bitrateKbps / 1000);
    add('BITRATE_HIGH', false, `${mb} Mbit/s per viewer loads the school’s uplink. Limit the bitrate to 2–4 Mbit/s.`, `${mb} Mbit/s na diváka zatěžuje připojení školy. Omezte datový tok na 2–4 Mbit/s.`);
  }
  const audio = f.audioCodec?.toUpperCase() ?? null;
  if (audio === 'AAC' || audio === 'MPEG4-GENERIC' || audio === 'MP4A-LATM') {
    add(
      'AUDIO_AAC',
      false,
      'The camera’s sound is AAC, which cannot be relayed to browsers live. Sound is off unless the region turns it on; if it is needed, switch the camera’s audio to G.711.',
      'Zvuk kamery je v AAC, které nelze živě přenést do prohlížeče. Zvuk je vypnutý, pokud ho kraj nezapne; je-li potřeba, přepněte zvuk kamery na G.711.',
    );
  }
  const grade: CheckGrade = found.some((x) => x.blocks) ? 'not_supported' : found.length > 0 ? 'works_with_reasons' : 'ready';
  // Blocking findings first: they are what school IT must fix.
  found.sort((a, b) => Number(b.blocks) - Number(a.blocks));
  return { grade, reasons: found.map(({ code, en, cs }) => ({ code, en, cs })) };
}

/** The graded result, exactly the fields of the link's `CheckResult`. */
export function checkResult(f: CameraFacts): CheckResult {
  const { grade, reasons } = gradeCamera(f);
  return {
    codec: f.codec,
    profile: f.profile,
    width: f.width,
    height: f.height,
    fps: f.fps,
    gopSeconds: f.gopSeconds,
    bframes: f.bframes,
    bitrateKbps: f.bitrateKbps,
    audioCodec: f.audioCodec,
    keyframeOnDemand: f.keyframeOnDemand,
    grade,
    reasons,
    url: f.url,
  };
}

/** The grade in words, for the CLI. */
export const GRADE_WORDS: Record<CheckGrade, { en: string; cs: string }> = {
  ready: { en: 'ready for live view', cs: 'připravena pro živý obraz' },
  works_with_reasons: { en: 'works, with reasons', cs: 'funguje, s výhradami' },
  not_supported: { en: 'not supported', cs: 'nepodporována' },
};

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}
