import { render } from 'preact';
import { App } from './app';
import { installDiagnostics } from './diagnostics';
import { lang, setLang } from './i18n';
import { resumeSession } from './session';
import './style.css';

/** The operators' dashboard: one page, signed in through the centre's API, every screen chosen by role. */
setLang(lang.value);
installDiagnostics();
render(<App />, document.getElementById('app')!);
void resumeSession();
