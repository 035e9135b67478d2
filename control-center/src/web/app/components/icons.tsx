/** Small line icons drawn inline (no icon font, no external file): decorative, so hidden from screen readers. */
const PATHS = {
  camera: 'M4 7h3l2-2h6l2 2h3v12H4z M12 10a3 3 0 1 0 0.01 0',
  expand: 'M4 9V4h5 M20 9V4h-5 M4 15v5h5 M20 15v5h-5',
  close: 'M6 6l12 12 M18 6L6 18',
  back: 'M15 5l-7 7 7 7',
  copy: 'M9 9h10v11H9z M5 15V4h10',
  bell: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4z M10 20h4',
  bellOff: 'M6 16V11a6 6 0 0 1 9.5-4.9 M18 11v5l2 2H8 M10 20h4 M4 4l16 16',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16 }: { name: IconName; size?: number }) {
  return (
    <svg class="icon-svg" viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d={PATHS[name]} />
    </svg>
  );
}
