import { signal } from '@preact/signals';

/** Dashboard languages: Czech (default) and English. */
export type Lang = 'cs' | 'en';
export const LANGS: readonly Lang[] = ['cs', 'en'];

const STRINGS = {
  'app.title': { cs: 'Kamerový dohled škol', en: 'School camera supervision' },
  'app.region': { cs: 'Karlovarský kraj', en: 'Karlovy Vary Region' },
  'lang.switch': { cs: 'English', en: 'Čeština' },
  'lang.label': { cs: 'Jazyk', en: 'Language' },
  'common.save': { cs: 'Uložit', en: 'Save' },
  'common.cancel': { cs: 'Zrušit', en: 'Cancel' },
  'common.close': { cs: 'Zavřít', en: 'Close' },
  'common.delete': { cs: 'Smazat', en: 'Delete' },
  'common.edit': { cs: 'Upravit', en: 'Edit' },
  'common.create': { cs: 'Vytvořit', en: 'Create' },
  'common.loading': { cs: 'Načítám…', en: 'Loading…' },
  'common.none': { cs: '—', en: '—' },
  'common.yes': { cs: 'ano', en: 'yes' },
  'common.no': { cs: 'ne', en: 'no' },
  'common.back': { cs: 'Zpět', en: 'Back' },
  'common.next': { cs: 'Pokračovat', en: 'Next' },
  'common.error': { cs: 'Chyba: {message}', en: 'Error: {message}' },
  'common.networkError': { cs: 'Centrum není dostupné. Zkuste to znovu.', en: 'The control centre cannot be reached. Try again.' },
  'common.forbidden': { cs: 'K tomu nemáte oprávnění.', en: 'You are not allowed to do that.' },
  'common.search': { cs: 'Hledat', en: 'Search' },
  'common.all': { cs: 'vše', en: 'all' },

  'nav.main': { cs: 'Hlavní nabídka', en: 'Main menu' },
  'nav.overview': { cs: 'Přehled kraje', en: 'Region overview' },
  'nav.live': { cs: 'Živý obraz', en: 'Live view' },
  'nav.alarms': { cs: 'Poplachy', en: 'Alarms' },
  'nav.cameras': { cs: 'Kamery', en: 'Cameras' },
  'nav.users': { cs: 'Uživatelé', en: 'Users' },
  'nav.schools': { cs: 'Školy', en: 'Schools' },
  'nav.gateways': { cs: 'Brány', en: 'Gateways' },
  'nav.audit': { cs: 'Auditní záznam', en: 'Audit log' },
  'nav.police': { cs: 'Sdílené kamery', en: 'Shared cameras' },
  'nav.sharing': { cs: 'Sdílení s policií', en: 'Police sharing' },
  'nav.notFound': { cs: 'Tato obrazovka neexistuje nebo k ní nemáte přístup.', en: 'This screen does not exist or is not open to you.' },

  'role.admin': { cs: 'správce', en: 'administrator' },
  'role.operator': { cs: 'operátor', en: 'operator' },
  'role.police': { cs: 'městská policie', en: 'municipal police' },
  'role.school_it': { cs: 'IT školy', en: 'school IT' },
  'role.auditor': { cs: 'auditor', en: 'auditor' },

  'login.title': { cs: 'Přihlášení', en: 'Sign in' },
  'login.username': { cs: 'Uživatelské jméno', en: 'User name' },
  'login.password': { cs: 'Heslo', en: 'Password' },
  'login.totp': { cs: 'Jednorázový kód (je-li nastaven)', en: 'One-time code (if set up)' },
  'login.submit': { cs: 'Přihlásit se', en: 'Sign in' },
  'login.busy': { cs: 'Přihlašuji…', en: 'Signing in…' },
  'login.bad': { cs: 'Nesprávné jméno nebo heslo.', en: 'Wrong user name or password.' },
  'login.totpNeeded': { cs: 'Zadejte jednorázový kód z ověřovací aplikace.', en: 'Enter the one-time code from your authenticator app.' },
  'login.totpSetup': { cs: 'Účet vyžaduje jednorázový kód, ale nemá ho nastavený. Obraťte se na správce.', en: 'This account needs a one-time code but has none set up. Ask an administrator.' },
  'login.locked': { cs: 'Účet je dočasně zablokován po příliš mnoha neúspěšných pokusech. Zkuste to znovu za {minutes} min.', en: 'The account is locked for a while after too many failed attempts. Try again in {minutes} min.' },
  'login.throttled': { cs: 'Příliš mnoho pokusů z tohoto místa. Zkuste to znovu za chvíli.', en: 'Too many attempts from here. Try again in a while.' },
  'login.expired': { cs: 'Platnost přihlášení vypršela. Přihlaste se znovu.', en: 'Your session has expired. Please sign in again.' },
  'login.signedOut': { cs: 'Byli jste odhlášeni.', en: 'You have been signed out.' },
  'login.ended': { cs: 'Přihlášení bylo ukončeno ({reason}). Přihlaste se znovu.', en: 'Your session was ended ({reason}). Please sign in again.' },
  'login.failed': { cs: 'Přihlášení se nezdařilo.', en: 'Sign-in failed.' },
  'session.logout': { cs: 'Odhlásit', en: 'Sign out' },
  'session.who': { cs: '{user} ({role}, {org})', en: '{user} ({role}, {org})' },
  'session.disconnected': { cs: 'Spojení s centrem přerušeno, připojuji znovu…', en: 'Lost the connection to the centre, reconnecting…' },

  'state.idle': { cs: 'v klidu', en: 'idle' },
  'state.starting': { cs: 'spouští se', en: 'starting' },
  'state.streaming': { cs: 'vysílá', en: 'streaming' },
  'state.stalled': { cs: 'zamrzlá', en: 'stalled' },
  'state.failing': { cs: 'porucha', en: 'failing' },
  'state.offline': { cs: 'nedostupná', en: 'offline' },
  'state.unknown': { cs: 'neznámý stav', en: 'unknown' },

  'tile.connecting': { cs: 'připojuji', en: 'connecting' },
  'tile.playing': { cs: 'živě', en: 'live' },
  'tile.frozen': { cs: 'obraz stojí', en: 'no picture' },
  'tile.retrying': { cs: 'obnovuji za {seconds} s', en: 'retrying in {seconds} s' },
  'tile.refused': { cs: 'nepřístupné', en: 'not accessible' },
  'tile.ended': { cs: 'ukončeno', en: 'ended' },
  'tile.empty': { cs: 'Přetáhněte sem kameru ze seznamu nebo ji vyberte kliknutím.', en: 'Drag a camera here from the list, or click one to place it.' },
  'tile.snapshot': { cs: 'Snímek', en: 'Snapshot' },
  'tile.remove': { cs: 'Odebrat z dlaždice', en: 'Remove from tile' },
  'tile.single': { cs: 'Velký obraz', en: 'Single view' },
  'tile.backToGrid': { cs: 'Zpět na mřížku', en: 'Back to the grid' },
  'tile.label': { cs: 'Dlaždice {n}: {camera}', en: 'Tile {n}: {camera}' },
  'tile.labelEmpty': { cs: 'Dlaždice {n}: prázdná', en: 'Tile {n}: empty' },
  'tile.latency': { cs: 'zpoždění {ms} ms', en: 'latency {ms} ms' },
  'tile.mainStream': { cs: 'hlavní proud', en: 'main stream' },
  'tile.subStream': { cs: 'vedlejší proud', en: 'sub stream' },

  'snapshot.title': { cs: 'Snímek', en: 'Snapshot' },
  'snapshot.alt': { cs: 'Snímek z kamery {camera}', en: 'Snapshot of camera {camera}' },
  'snapshot.taking': { cs: 'Pořizuji snímek…', en: 'Taking the snapshot…' },
  'snapshot.download': { cs: 'Stáhnout JPEG', en: 'Download the JPEG' },
  'live.layout': { cs: 'Rozložení', en: 'Layout' },
  'live.layoutName': { cs: 'Rozložení {name}', en: 'Layout {name}' },
  'live.fullscreen': { cs: 'Celá obrazovka', en: 'Full screen' },
  'live.prevPage': { cs: 'Předchozí kamery', en: 'Previous cameras' },
  'live.nextPage': { cs: 'Další kamery', en: 'Next cameras' },
  'live.page': { cs: 'Strana {page} z {pages}', en: 'Page {page} of {pages}' },
  'live.tree': { cs: 'Kamery podle měst a škol', en: 'Cameras by town and school' },
  'live.filter': { cs: 'Hledat kameru nebo školu', en: 'Find a camera or school' },
  'live.views': { cs: 'Uložené pohledy', en: 'Saved views' },
  'live.viewPick': { cs: 'Otevřít pohled…', en: 'Open a view…' },
  'live.viewName': { cs: 'Název pohledu', en: 'View name' },
  'live.viewSave': { cs: 'Uložit pohled', en: 'Save view' },
  'live.viewDelete': { cs: 'Smazat pohled', en: 'Delete view' },
  'live.viewSaved': { cs: 'Pohled „{name}“ uložen.', en: 'View “{name}” saved.' },
  'live.noLive.one': { cs: 'Tento účet nemá živé video ({n} kamera, jen stav).', en: 'This account has no live video ({n} camera, health only).' },
  'live.noLive.few': { cs: 'Tento účet nemá živé video ({n} kamery, jen stav).', en: 'This account has no live video ({n} cameras, health only).' },
  'live.noLive.other': { cs: 'Tento účet nemá živé video ({n} kamer, jen stav).', en: 'This account has no live video ({n} cameras, health only).' },
  'live.noCameras': { cs: 'Žádné kamery k zobrazení.', en: 'No cameras to show.' },
  'live.noCamerasPolice': { cs: 'Žádné kamery k zobrazení: vaší policii nyní nic není sdíleno.', en: 'No cameras to show: nothing is shared with your force at the moment.' },
  'live.cameras.one': { cs: '{n} kamera', en: '{n} camera' },
  'live.cameras.few': { cs: '{n} kamery', en: '{n} cameras' },
  'live.cameras.other': { cs: '{n} kamer', en: '{n} cameras' },
  'live.place': { cs: 'Zobrazit {camera} v dlaždici', en: 'Show {camera} in a tile' },

  'overview.title': { cs: 'Přehled kraje', en: 'Region overview' },
  'overview.map': { cs: 'Schematická mapa kraje se stavem škol', en: 'Schematic map of the region with each school’s state' },
  'overview.legend': { cs: 'Legenda', en: 'Legend' },
  'overview.ok': { cs: 'všechny kamery v pořádku', en: 'all cameras up' },
  'overview.degraded': { cs: 'některé kamery mimo provoz', en: 'some cameras down' },
  'overview.alarm': { cs: 'otevřený poplach', en: 'open alarm' },
  'overview.empty': { cs: 'bez kamer', en: 'no cameras' },
  'overview.schools': { cs: 'Školy', en: 'Schools' },
  'overview.school': { cs: 'Škola', en: 'School' },
  'overview.town': { cs: 'Město', en: 'Town' },
  'overview.state': { cs: 'Stav', en: 'State' },
  'overview.up': { cs: 'V provozu', en: 'Up' },
  'overview.openAlarms': { cs: 'Poplachy', en: 'Alarms' },
  'overview.watch': { cs: 'Sledovat živě', en: 'Watch live' },
  'overview.camerasUp': { cs: '{up} z {total}', en: '{up} of {total}' },
  'overview.summary': { cs: '{schools} · {cameras} · v provozu {up}', en: '{schools} · {cameras} · {up} up' },
  'overview.schoolCount.one': { cs: '{n} škola', en: '{n} school' },
  'overview.schoolCount.few': { cs: '{n} školy', en: '{n} schools' },
  'overview.schoolCount.other': { cs: '{n} škol', en: '{n} schools' },
  'overview.noCoordinates': { cs: 'Města kraje nemají souřadnice: mapu nelze nakreslit. Správce je doplní v Školy → Města.', en: 'The region’s towns have no coordinates, so no map can be drawn. An administrator adds them under Schools → Towns.' },

  'cameras.title': { cs: 'Kamery a jejich stav', en: 'Cameras and their health' },
  'cameras.name': { cs: 'Kamera', en: 'Camera' },
  'cameras.school': { cs: 'Škola', en: 'School' },
  'cameras.state': { cs: 'Stav', en: 'State' },
  'cameras.reason': { cs: 'Důvod', en: 'Reason' },
  'cameras.size': { cs: 'Rozlišení', en: 'Resolution' },
  'cameras.updated': { cs: 'Aktualizováno', en: 'Updated' },
  'cameras.none': { cs: 'Žádné kamery.', en: 'No cameras.' },
  'cameras.live': { cs: 'Živě', en: 'Live' },

  'users.title': { cs: 'Uživatelé', en: 'Users' },
  'users.create': { cs: 'Nový uživatel', en: 'New user' },
  'users.username': { cs: 'Uživatelské jméno', en: 'User name' },
  'users.password': { cs: 'Heslo (nejméně 10 znaků)', en: 'Password (at least 10 characters)' },
  'users.generate': { cs: 'Vygenerovat heslo', en: 'Generate a password' },
  'users.role': { cs: 'Role', en: 'Role' },
  'users.org': { cs: 'Organizace', en: 'Organisation' },
  'users.totp': { cs: 'Jednorázový kód', en: 'One-time code' },
  'users.state': { cs: 'Stav', en: 'State' },
  'users.active': { cs: 'aktivní', en: 'active' },
  'users.disabled': { cs: 'zablokovaný', en: 'disabled' },
  'users.disable': { cs: 'Zablokovat', en: 'Disable' },
  'users.enable': { cs: 'Odblokovat', en: 'Enable' },
  'users.reset': { cs: 'Nové heslo', en: 'Reset password' },
  'users.change': { cs: 'Změnit roli / organizaci', en: 'Change role / organisation' },
  'users.created': { cs: 'Uživatel {user} vytvořen. Heslo: {password}', en: 'User {user} created. Password: {password}' },
  'users.resetDone': { cs: 'Nové heslo pro {user}: {password} (zobrazeno jen jednou)', en: 'New password for {user}: {password} (shown once)' },
  'users.updated': { cs: 'Uživatel {user} změněn.', en: 'User {user} updated.' },
  'users.actions': { cs: 'Akce', en: 'Actions' },
  'users.confirmDisable': { cs: 'Zablokovat účet {user}? Jeho přihlášení a živé přenosy se ihned ukončí.', en: 'Disable {user}? Their sessions and live views end at once.' },

  'schools.title': { cs: 'Školy a města', en: 'Schools and towns' },
  'schools.towns': { cs: 'Města', en: 'Towns' },
  'schools.create': { cs: 'Nová škola', en: 'New school' },
  'schools.id': { cs: 'Identifikátor (např. zs-cheb-2)', en: 'Id (e.g. zs-cheb-2)' },
  'schools.name': { cs: 'Název', en: 'Name' },
  'schools.town': { cs: 'Město', en: 'Town' },
  'schools.lat': { cs: 'Zeměpisná šířka', en: 'Latitude' },
  'schools.lon': { cs: 'Zeměpisná délka', en: 'Longitude' },
  'schools.cameras': { cs: 'Kamery', en: 'Cameras' },
  'schools.gateways': { cs: 'Brány', en: 'Gateways' },
  'schools.rename': { cs: 'Přejmenovat', en: 'Rename' },
  'schools.created': { cs: 'Škola {name} vytvořena.', en: 'School {name} created.' },
  'schools.saved': { cs: 'Uloženo.', en: 'Saved.' },

  'gateways.title': { cs: 'Brány škol', en: 'School gateways' },
  'gateways.create': { cs: 'Nová brána', en: 'New gateway' },
  'gateways.id': { cs: 'Identifikátor (nepovinný)', en: 'Id (optional)' },
  'gateways.name': { cs: 'Název', en: 'Name' },
  'gateways.school': { cs: 'Škola', en: 'School' },
  'gateways.state': { cs: 'Stav', en: 'State' },
  'gateways.online': { cs: 'Spojení', en: 'Link' },
  'gateways.lastSeen': { cs: 'Naposledy', en: 'Last seen' },
  'gateways.copy': { cs: 'Zkopírovat příkaz', en: 'Copy the command' },
  'gateways.revoke': { cs: 'Zneplatnit', en: 'Revoke' },
  'gateways.confirmRevoke': { cs: 'Zneplatnit bránu {id}? Její spojení a všechny přenosy se ihned ukončí a už se nepřipojí.', en: 'Revoke gateway {id}? Its link and every view are cut now, and it can never connect again.' },
  'gateways.token': { cs: 'Jednorázový zápisový token brány {id}', en: 'One-time enrolment token of gateway {id}' },
  'gateways.tokenOnce': { cs: 'Token se zobrazuje jen teď. Platí do {until}. Na počítači brány spusťte:', en: 'This token is shown only now. It is valid until {until}. On the gateway’s machine run:' },
  'gateways.state.awaiting_enrolment': { cs: 'čeká na zápis', en: 'awaiting enrolment' },
  'gateways.state.enrolment_expired': { cs: 'token vypršel', en: 'token expired' },
  'gateways.state.enrolled': { cs: 'zapsaná', en: 'enrolled' },
  'gateways.state.revoked': { cs: 'zneplatněná', en: 'revoked' },
  'gateways.up': { cs: 'připojena', en: 'online' },
  'gateways.down': { cs: 'odpojena', en: 'offline' },

  'audit.title': { cs: 'Auditní záznam', en: 'Audit log' },
  'audit.filters': { cs: 'Filtry', en: 'Filters' },
  'audit.who': { cs: 'Kdo (uživatel)', en: 'Who (user)' },
  'audit.camera': { cs: 'Kamera', en: 'Camera' },
  'audit.school': { cs: 'Škola', en: 'School' },
  'audit.kind': { cs: 'Druh', en: 'Kind' },
  'audit.from': { cs: 'Od', en: 'From' },
  'audit.to': { cs: 'Do', en: 'To' },
  'audit.apply': { cs: 'Použít filtry', en: 'Apply filters' },
  'audit.clear': { cs: 'Zrušit filtry', en: 'Clear filters' },
  'audit.more': { cs: 'Načíst starší', en: 'Load older entries' },
  'audit.export': { cs: 'Export', en: 'Export' },
  'audit.exportCsv': { cs: 'Stáhnout CSV', en: 'Download CSV' },
  'audit.exportJson': { cs: 'Stáhnout JSON', en: 'Download JSON' },
  'audit.verify': { cs: 'Ověřit řetězec', en: 'Verify the chain' },
  'audit.verifyOk': { cs: 'Řetězec záznamů je neporušený ({entries}).', en: 'The chain of entries is intact ({entries}).' },
  'audit.verifyBad': { cs: 'Řetězec je porušen u záznamu č. {seq}: {problem}.', en: 'The chain is broken at entry #{seq}: {problem}.' },
  'audit.entries.one': { cs: '{n} záznam', en: '{n} entry' },
  'audit.entries.few': { cs: '{n} záznamy', en: '{n} entries' },
  'audit.entries.other': { cs: '{n} záznamů', en: '{n} entries' },
  'audit.at': { cs: 'Čas', en: 'Time' },
  'audit.outcome': { cs: 'Výsledek', en: 'Outcome' },
  'audit.actor': { cs: 'Kdo', en: 'Who' },
  'audit.address': { cs: 'Odkud', en: 'From where' },
  'audit.target': { cs: 'Cíl', en: 'Target' },
  'audit.detail': { cs: 'Podrobnosti', en: 'Details' },
  'audit.none': { cs: 'Žádné záznamy neodpovídají filtrům.', en: 'No entries match the filters.' },
  'audit.anyKind': { cs: 'jakýkoli', en: 'any' },
  'nav.register': { cs: 'Přidat kameru', en: 'Add a camera' },

  'alarms.title': { cs: 'Poplachy', en: 'Alarms' },
  'alarms.open.one': { cs: '{n} otevřený poplach', en: '{n} open alarm' },
  'alarms.open.few': { cs: '{n} otevřené poplachy', en: '{n} open alarms' },
  'alarms.open.other': { cs: '{n} otevřených poplachů', en: '{n} open alarms' },
  'alarms.openCount': { cs: 'Otevřené poplachy: {n}', en: 'Open alarms: {n}' },
  'alarms.openList': { cs: 'Otevřené poplachy, nejnovější nahoře', en: 'Open alarms, newest first' },
  'alarms.none': { cs: 'Žádné otevřené poplachy.', en: 'No open alarms.' },
  'alarms.kind': { cs: 'Druh', en: 'Kind' },
  'alarms.kind.motion': { cs: 'Pohyb', en: 'Motion' },
  'alarms.kind.tamper': { cs: 'Sabotáž kamery', en: 'Camera tampering' },
  'alarms.kind.camera_offline': { cs: 'Kamera nedostupná', en: 'Camera offline' },
  'alarms.kind.gateway_offline': { cs: 'Brána školy nedostupná', en: 'School gateway offline' },
  'alarms.school': { cs: 'Škola', en: 'School' },
  'alarms.camera': { cs: 'Kamera', en: 'Camera' },
  'alarms.age': { cs: 'Kdy', en: 'When' },
  'alarms.raised': { cs: 'Vznik', en: 'Raised' },
  'alarms.condition': { cs: 'Stav', en: 'Condition' },
  'alarms.active': { cs: 'trvá', en: 'ongoing' },
  'alarms.cleared': { cs: 'skončil {at}', en: 'ended {at}' },
  'alarms.late': { cs: 'doručen se zpožděním', en: 'delivered late' },
  'alarms.gatewayOf': { cs: 'brána {gateway}', en: 'gateway {gateway}' },
  'alarms.show': { cs: 'Ukázat kameru', en: 'Show camera' },
  'alarms.ack': { cs: 'Potvrdit', en: 'Acknowledge' },
  'alarms.acked': { cs: 'Potvrzeno: {what}', en: 'Acknowledged: {what}' },
  'alarms.unacked': { cs: 'nepotvrzen', en: 'not acknowledged' },
  'alarms.ackedBy': { cs: 'Potvrdil(a)', en: 'Acknowledged by' },
  'alarms.history': { cs: 'Historie poplachů', en: 'Alarm history' },
  'alarms.noHistory': { cs: 'Žádné poplachy.', en: 'No alarms.' },
  'alarms.mute': { cs: 'Ztlumit zvuk poplachů', en: 'Mute alarm sound' },
  'alarms.unmute': { cs: 'Zapnout zvuk poplachů', en: 'Unmute alarm sound' },
  'alarms.new': { cs: 'Nový poplach: {what}', en: 'New alarm: {what}' },
  'alarms.goto': { cs: 'Otevřít poplachy', en: 'Open alarms' },

  'cameras.health': { cs: 'Měření brány', en: 'Gateway’s measure' },
  'cameras.purpose': { cs: 'Účel a uchování', en: 'Purpose and retention' },
  'cameras.actions': { cs: 'Akce', en: 'Actions' },
  'cameras.register': { cs: 'Přidat kameru', en: 'Add a camera' },
  'cameras.notAnswering': { cs: 'neodpovídá', en: 'not answering' },
  'cameras.notPulled': { cs: 'nikdo nesleduje', en: 'nobody watching' },
  'cameras.eventsFailing': { cs: 'události nefungují', en: 'events failing' },
  'cameras.reconnects.one': { cs: '{n} obnovení spojení', en: '{n} reconnect' },
  'cameras.reconnects.few': { cs: '{n} obnovení spojení', en: '{n} reconnects' },
  'cameras.reconnects.other': { cs: '{n} obnovení spojení', en: '{n} reconnects' },
  'cameras.retention.one': { cs: 'uchování {n} hodina', en: 'kept {n} hour' },
  'cameras.retention.few': { cs: 'uchování {n} hodiny', en: 'kept {n} hours' },
  'cameras.retention.other': { cs: 'uchování {n} hodin', en: 'kept {n} hours' },
  'cameras.noRecord': { cs: 'bez záznamu o zpracování (kamera zapsaná jen v bráně)', en: 'no processing record (camera set up on the gateway only)' },
  'cameras.confirmRemove': { cs: 'Opravdu odebrat kameru {name}?', en: 'Really remove camera {name}?' },
  'cameras.removed': { cs: 'Kamera {name} byla odebrána.', en: 'Camera {name} was removed.' },
  'cameras.saved': { cs: 'Údaje kamery {name} uloženy.', en: 'Camera {name} saved.' },

  'facts.purpose': { cs: 'Účel (konkrétně, k čemu kamera slouží)', en: 'Purpose (specifically, what the camera is for)' },
  'facts.purposeHint': { cs: 'např. dohled nad vjezdem do areálu mimo vyučování', en: 'e.g. watching the site entrance outside school hours' },
  'facts.legalBasis': { cs: 'Právní základ', en: 'Legal basis' },
  'facts.retention': { cs: 'Doba uchování (hodiny)', en: 'Retention (hours)' },
  'facts.retentionDays': { cs: '≈ {days} d', en: '≈ {days} d' },
  'facts.retentionRange': { cs: '1 až 720 hodin (30 dní)', en: '1 to 720 hours (30 days)' },
  'facts.schedule': { cs: 'Provoz (nepovinné)', en: 'In use (optional)' },
  'facts.scheduleHint': { cs: 'např. po–pá 18:00–7:00', en: 'e.g. Mon–Fri 18:00–07:00' },

  'register.title': { cs: 'Přidat kameru', en: 'Add a camera' },
  'register.steps': { cs: 'Kroky', en: 'Steps' },
  'register.step.discover': { cs: '1. Vyhledání', en: '1. Find' },
  'register.step.credentials': { cs: '2. Přihlášení ke kameře', en: '2. Camera login' },
  'register.step.check': { cs: '3. Kontrola', en: '3. Check' },
  'register.step.facts': { cs: '4. Účel a uchování', en: '4. Purpose and retention' },
  'register.step.done': { cs: '5. Hotovo', en: '5. Done' },
  'register.school': { cs: 'Škola', en: 'School' },
  'register.toCameras': { cs: 'Zpět na kamery', en: 'Back to cameras' },
  'register.discoverHelp': { cs: 'Brána školy vyhledá kamery ONVIF ve školní síti. Bez rozsahu adres pošle hledání do celé sítě; s rozsahem se zeptá jen těchto adres.', en: 'The school’s gateway looks for ONVIF cameras on the school network. Without a range it asks the whole network; with one, only those addresses.' },
  'register.noGateway': { cs: 'Škola zatím nemá zapsanou bránu. Požádejte správce kraje.', en: 'The school has no enrolled gateway yet. Ask the regional administrator.' },
  'register.gatewayOnline': { cs: 'připojena', en: 'connected' },
  'register.gatewayOffline': { cs: 'nepřipojena (naposledy {seen})', en: 'not connected (last seen {seen})' },
  'register.range': { cs: 'Rozsah adres (nepovinné)', en: 'Address range (optional)' },
  'register.multicast': { cs: 'Hledat i v celé síti (multicast)', en: 'Also search the whole network (multicast)' },
  'register.search': { cs: 'Vyhledat kamery', en: 'Find cameras' },
  'register.searching': { cs: 'Hledám…', en: 'Searching…' },
  'register.nothingFound': { cs: 'Nenalezena žádná kamera. Zkontrolujte, že je zapnutá a ve stejné síti jako brána, nebo zadejte adresu ručně.', en: 'No camera found. Check that it is on and on the gateway’s network, or type its address below.' },
  'register.found': { cs: 'Nalezené kamery', en: 'Cameras found' },
  'register.unnamed': { cs: 'kamera bez jména', en: 'unnamed camera' },
  'register.already': { cs: 'už přidána', en: 'already added' },
  'register.pick': { cs: 'Vybrat', en: 'Choose' },
  'register.manual': { cs: 'Nebo adresa kamery (ONVIF nebo rtsp://)', en: 'Or the camera’s address (ONVIF or rtsp://)' },
  'register.useAddress': { cs: 'Použít adresu', en: 'Use this address' },
  'register.credentialsHelp': { cs: 'Jméno a heslo kamery. Heslo se uloží jen v bráně školy, ne v centru.', en: 'The camera’s user name and password. The password is kept only on the school’s gateway, not in the centre.' },
  'register.cameraUser': { cs: 'Uživatel kamery', en: 'Camera user' },
  'register.cameraPassword': { cs: 'Heslo kamery', en: 'Camera password' },
  'register.check': { cs: 'Zkontrolovat kameru', en: 'Check the camera' },
  'register.checking': { cs: 'Brána kameru zkouší, sleduje její obraz a měří ho (až 15 s)…', en: 'The gateway is trying the camera, watching and measuring its picture (up to 15 s)…' },
  'register.checkAgain': { cs: 'Zkontrolovat znovu', en: 'Check again' },
  'register.grade.ready': { cs: 'Připravena', en: 'Ready' },
  'register.grade.works_with_reasons': { cs: 'Funguje s výhradami', en: 'Works, with remarks' },
  'register.grade.not_supported': { cs: 'Nepodporována', en: 'Not supported' },
  'register.gradeHelp.ready': { cs: 'Kamera je vhodná pro živý obraz.', en: 'The camera is fit for live view.' },
  'register.gradeHelp.works_with_reasons': { cs: 'Kameru lze přidat; tyto věci zhorší zážitek:', en: 'The camera can be added; these things make it worse:' },
  'register.gradeHelp.not_supported': { cs: 'Kameru nelze přidat:', en: 'The camera cannot be added:' },
  'register.noRemarks': { cs: 'Brána nenašla nic, co by živému obrazu vadilo.', en: 'The gateway found nothing that would hurt live view.' },
  'register.codec': { cs: 'Kodek', en: 'Codec' },
  'register.size': { cs: 'Rozlišení', en: 'Resolution' },
  'register.fps': { cs: 'Snímků za sekundu', en: 'Frames per second' },
  'register.gop': { cs: 'Odstup klíčových snímků', en: 'Key frame interval' },
  'register.bframes': { cs: 'B-snímky', en: 'B-frames' },
  'register.bitrate': { cs: 'Datový tok', en: 'Bitrate' },
  'register.audio': { cs: 'Zvuk', en: 'Audio' },
  'register.keyframeOnDemand': { cs: 'Klíčový snímek na vyžádání', en: 'Key frame on demand' },
  'register.factsHelp': { cs: 'Záznam o zpracování osobních údajů: proč kamera snímá, na jakém právním základě a jak dlouho se záznamy smějí uchovat. Vše povinné.', en: 'The record of processing: why the camera films, on which legal basis, and how long recordings may be kept. All required.' },
  'register.name': { cs: 'Název kamery', en: 'Camera name' },
  'register.register': { cs: 'Přidat kameru', en: 'Add the camera' },
  'register.registering': { cs: 'Přidávám…', en: 'Adding…' },
  'register.doneTitle': { cs: 'Kamera {name} je přidána', en: 'Camera {name} is added' },
  'register.doneHelp': { cs: 'Brána ji teď hlídá; takto vypadá její živý obraz.', en: 'The gateway now supervises it; this is its live picture.' },
  'register.waiting': { cs: 'Čekám, až ji brána ohlásí…', en: 'Waiting for the gateway to report it…' },
  'register.another': { cs: 'Přidat další kameru', en: 'Add another camera' },
  'state.ended': { cs: 'ukončeno', en: 'ended' },
  'state.refused': { cs: 'nepřístupné', en: 'not accessible' },
  'transport.mse': { cs: 'záložní přenos', en: 'fallback stream' },
  'transport.mseTitle': {
    cs: 'WebRTC se nepodařilo spojit (síť blokuje UDP?); video jde přes záložní přenos (fMP4 přes WebSocket).',
    en: 'WebRTC could not connect (UDP blocked?); the video comes over the fallback stream (fMP4 over WebSocket).',
  },
  'grant.caseRef': { cs: 'č. j. {caseRef}', en: 'case {caseRef}' },
  'grant.left': { cs: 'zbývá {time}', en: '{time} left' },
  'grant.until': { cs: 'do {time}', en: 'until {time}' },
  'grant.emergencyLabel': { cs: 'MIMOŘÁDNÁ UDÁLOST', en: 'EMERGENCY' },
  'grant.state.active': { cs: 'aktivní', en: 'active' },
  'grant.state.pending': { cs: 'čeká na schválení', en: 'awaiting approval' },
  'grant.state.requested': { cs: 'žádost policie', en: 'police request' },
  'grant.state.expired': { cs: 'vypršelo', en: 'expired' },
  'grant.state.revoked': { cs: 'odvoláno', en: 'revoked' },
  'grant.cut.revoked': { cs: 'Sdílení {caseRef} bylo odvoláno – živý obraz byl ukončen.', en: 'Sharing {caseRef} was revoked – the live view was ended.' },
  'grant.cut.expired': { cs: 'Platnost sdílení {caseRef} vypršela – živý obraz byl ukončen.', en: 'Sharing {caseRef} expired – the live view was ended.' },
  'grant.cut.emergency': { cs: 'Mimořádná událost ve škole {school}: kamery jsou sdíleny s {force}.', en: 'Emergency at {school}: its cameras are shared with {force}.' },
  'grant.tileCut.revoked': { cs: 'Sdílení odvoláno', en: 'Sharing revoked' },
  'grant.tileCut.expired': { cs: 'Sdílení vypršelo', en: 'Sharing expired' },
  'grant.wholeSchool': { cs: 'celá škola {school}', en: 'all of {school}' },

  'police.title': { cs: 'Kamery sdílené s vaší policií', en: 'Cameras shared with your force' },
  'police.grants': { cs: 'Aktivní sdílení', en: 'Active sharing' },
  'police.empty': {
    cs: 'Vaší policii nyní není nic sdíleno. Kamery se zde objeví samy, jakmile operátor kraje povolí sdílení nebo škola vyhlásí mimořádnou událost.',
    en: 'Nothing is shared with your force right now. Cameras appear here by themselves once a regional operator shares them or a school raises an emergency.',
  },
  'police.reason': { cs: 'Důvod: {reason}', en: 'Reason: {reason}' },
  'police.legalBasis': { cs: 'Právní základ: {basis}', en: 'Legal basis: {basis}' },

  'sharing.title': { cs: 'Sdílení s městskou policií', en: 'Sharing with municipal police' },
  'sharing.form': { cs: 'Sdílet s policií', en: 'Share with the police' },
  'sharing.force': { cs: 'Policie', en: 'Police force' },
  'sharing.what': { cs: 'Co sdílet', en: 'What to share' },
  'sharing.wholeSchool': { cs: 'Celou školu', en: 'A whole school' },
  'sharing.chosenCameras': { cs: 'Vybrané kamery', en: 'Chosen cameras' },
  'sharing.school': { cs: 'Škola', en: 'School' },
  'sharing.cameras': { cs: 'Kamery', en: 'Cameras' },
  'sharing.reason': { cs: 'Důvod', en: 'Reason' },
  'sharing.caseRef': { cs: 'Číslo jednací', en: 'Case reference' },
  'sharing.legalBasis': { cs: 'Právní základ', en: 'Legal basis' },
  'sharing.minutes': { cs: 'Délka (minuty)', en: 'Length (minutes)' },
  'sharing.snapshots': { cs: 'Povolit i snímky', en: 'Allow snapshots too' },
  'sharing.submit': { cs: 'Sdílet', en: 'Share' },
  'sharing.pickCamera': { cs: 'Vyberte alespoň jednu kameru.', en: 'Choose at least one camera.' },
  'sharing.created': { cs: 'Sdílení {caseRef} vytvořeno: {state}.', en: 'Sharing {caseRef} created: {state}.' },
  'sharing.rtsp': { cs: 'Adresy RTSP pro kamerový systém policie (heslo se zobrazí jen nyní, platí jen po dobu sdílení):', en: 'RTSP URLs for the police video system (the password is shown only now and works only while the sharing runs):' },
  'sharing.noRtsp': { cs: 'Centrum nenabízí přeposílání RTSP (není nastaveno).', en: 'The centre offers no RTSP re-export (not configured).' },
  'sharing.list': { cs: 'Sdílení – aktivní a čekající', en: 'Sharing – active and waiting' },
  'sharing.none': { cs: 'Nic není sdíleno.', en: 'Nothing is shared.' },
  'sharing.col.caseRef': { cs: 'Č. j.', en: 'Case' },
  'sharing.col.force': { cs: 'Policie', en: 'Force' },
  'sharing.col.what': { cs: 'Kamery', en: 'Cameras' },
  'sharing.col.state': { cs: 'Stav', en: 'State' },
  'sharing.col.left': { cs: 'Zbývá', en: 'Time left' },
  'sharing.col.by': { cs: 'Vytvořil', en: 'Created by' },
  'sharing.approve': { cs: 'Schválit', en: 'Approve' },
  'sharing.revoke': { cs: 'Ukončit', en: 'End' },
  'sharing.extend': { cs: 'Prodloužit', en: 'Extend' },
  'sharing.extendMinutes': { cs: 'O kolik minut', en: 'By how many minutes' },
  'sharing.extendReason': { cs: 'Důvod prodloužení (povinný)', en: 'Why it must run longer (required)' },
  'sharing.confirmRevoke': { cs: 'Ukončit sdílení {caseRef}? Všechna sledování pod ním budou ihned přerušena.', en: 'End sharing {caseRef}? Every view under it is cut at once.' },
  'sharing.twoPerson': { cs: 'Schvaluje jiný operátor než ten, kdo sdílení vytvořil.', en: 'Another operator than its creator approves it.' },

  'emergency.title': { cs: 'Mimořádná událost', en: 'Emergency' },
  'emergency.help': {
    cs: 'Při ohrožení ve škole zpřístupní kamery školy ihned městské policii na předem schválenou dobu. Ukončit jde jedním tlačítkem.',
    en: 'When the school is in danger, its cameras open to the municipal police at once for a pre-approved time. One button ends it.',
  },
  'emergency.raise': { cs: 'Vyhlásit mimořádnou událost – sdílet kamery s policií', en: 'Raise an emergency – share cameras with the police' },
  'emergency.reason': { cs: 'Co se děje (nepovinné)', en: 'What is happening (optional)' },
  'emergency.confirm': { cs: 'Opravdu vyhlásit mimořádnou událost pro {school}? Kamery školy ihned uvidí městská policie.', en: 'Really raise an emergency for {school}? The police will see the school\'s cameras at once.' },
  'emergency.running': { cs: 'Probíhá mimořádná událost: kamery školy {school} vidí {force}.', en: 'Emergency running: {force} sees the cameras of {school}.' },
  'emergency.end': { cs: 'Ukončit mimořádnou událost', en: 'End the emergency' },
  'emergency.confirmEnd': { cs: 'Ukončit mimořádnou událost? Policie přestane kamery školy vidět.', en: 'End the emergency? The police stop seeing the school\'s cameras.' },

  'watching.title': { cs: 'Kdo se právě dívá', en: 'Who is watching now' },
  'watching.none': { cs: 'Nikdo se právě nedívá.', en: 'Nobody is watching right now.' },
  'watching.camera': { cs: 'Kamera', en: 'Camera' },
  'watching.user': { cs: 'Uživatel', en: 'User' },
  'watching.org': { cs: 'Organizace', en: 'Organisation' },
  'watching.since': { cs: 'Od', en: 'Since' },
  'watching.grant': { cs: 'Sdílení', en: 'Sharing' },
} satisfies Record<string, Record<Lang, string>>;

export type StringKey = keyof typeof STRINGS;

function initialLang(): Lang {
  const stored = localStorage.getItem('schoolcam.lang');
  return stored === 'en' || stored === 'cs' ? stored : 'cs';
}

/** The page's language. Czech by default; remembered per user on the centre, and in the browser for the sign-in page. */
export const lang = signal<Lang>(initialLang());

export function setLang(next: Lang): void {
  lang.value = next;
  localStorage.setItem('schoolcam.lang', next);
  document.documentElement.lang = next;
  document.title = t('app.title');
}

/** A string in the current language, `{name}` placeholders filled. Unknown keys show as themselves (a visible bug, not a crash). */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const entry = (STRINGS as Record<string, Record<Lang, string>>)[key];
  const text = entry ? entry[lang.value] : key;
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/**
 * A counted phrase: `key.one`, `key.few` or `key.other`, chosen by `Intl.PluralRules`.
 * Czech: 1 kamera, 2–4 kamery, 5+ (and 0) kamer; English: one and other.
 */
export function tp(key: string, n: number, vars: Record<string, string | number> = {}): string {
  const cat = new Intl.PluralRules(lang.value).select(n);
  return t(`${key}.${cat === 'one' || cat === 'few' ? cat : 'other'}`, { n: fmtNumber(n), ...vars });
}

const locale = (): string => (lang.value === 'cs' ? 'cs-CZ' : 'en-GB');

export function fmtNumber(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

/** Time of day, with seconds (tile clocks). */
export function fmtTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

export function fmtDateTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium' }).format(ms);
}

/** How long ago, in words ("před 3 minutami", "3 minutes ago"); never in the future. */
export function fmtAge(ms: number, now = Date.now()): string {
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  // A moment just past on another clock (a gateway's, or the page's once-a-second tick) is "now", never "in 1 second".
  const s = Math.min(0, Math.round((ms - now) / 1000));
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86_400), 'day');
}

/** Time left as a running countdown: `1:05:09`, `4:07`; never negative. */
export function fmtLeft(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
