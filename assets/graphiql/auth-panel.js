// appsync-local's authorization panel, a thin bar above GraphiQL. Written for
// this project (not fetched from npm); plain DOM, no build step.
//
// It picks the credentials GraphiQL sends: an API key, or a JWT minted by the
// server's local issuer (or pasted), and shows the identity the server
// resolves for them. It calls only the server that served the page:
//
//   GET  /admin/auth      the API's modes, API keys and token providers
//   POST /admin/token     mints a Cognito or OIDC token
//   GET  /admin/identity  the identity the chosen headers resolve to
//
// each with `x-appsync-local-admin-token` once the user has entered one.
//
// The page calls `AppSyncLocalAuthPanel.start(element, headers, onHeaders)`:
// `headers` are the ones the server prefilled, and `onHeaders(next)` is called
// with the headers GraphiQL should send whenever they change.
(function () {
  'use strict';

  const ADMIN_HEADER = 'x-appsync-local-admin-token';
  const ADMIN_STORAGE = 'appsync-local:admin-token';
  /** The JWT modes, and the `/admin/token` provider that mints for each. */
  const PROVIDERS = { AMAZON_COGNITO_USER_POOLS: 'cognito', OPENID_CONNECT: 'oidc' };
  const NOTES = {
    AWS_IAM: 'AWS_IAM requests must be SigV4-signed: add the signed headers ' +
      '(Authorization, x-amz-date) in the headers editor below.',
    AWS_LAMBDA: 'AWS_LAMBDA: put the token your authorizer expects in the ' +
      'Authorization header, in the headers editor below.',
  };

  const STYLE = `
#auth-panel {
  --ap-fg: hsl(219, 28%, 32%); --ap-bg: hsl(219, 28%, 97%);
  --ap-line: hsla(219, 28%, 32%, .2); --ap-error: hsl(13, 93%, 42%);
  color-scheme: light;
  flex: none; padding: 4px 12px; color: var(--ap-fg); background: var(--ap-bg);
  border-bottom: 1px solid var(--ap-line);
  font: 13px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  body:not(.graphiql-light) #auth-panel {
    --ap-fg: hsl(219, 29%, 78%); --ap-bg: hsl(219, 29%, 14%);
    --ap-line: hsla(219, 29%, 78%, .2); --ap-error: hsl(13, 100%, 65%);
    color-scheme: dark;
  }
}
body.graphiql-dark #auth-panel {
  --ap-fg: hsl(219, 29%, 78%); --ap-bg: hsl(219, 29%, 14%);
  --ap-line: hsla(219, 29%, 78%, .2); --ap-error: hsl(13, 100%, 65%);
  color-scheme: dark;
}
#auth-panel .ap-bar, #auth-panel .ap-group {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px;
  margin: 0; padding: 0; border: 0; min-width: 0;
}
#auth-panel .ap-bar { column-gap: 14px; }
/* Their fields wrap one by one along the bar. */
#auth-panel .ap-contents { display: contents; }
#auth-panel [hidden] { display: none !important; }
#auth-panel input, #auth-panel select, #auth-panel button {
  font: inherit; padding: 1px 6px; border: 1px solid var(--ap-line); border-radius: 4px;
}
#auth-panel button { cursor: pointer; }
#auth-panel button:disabled { cursor: default; }
#auth-panel #auth-sub, #auth-panel #auth-username { width: 7em; }
#auth-panel #auth-groups { width: 9em; }
#auth-panel #auth-token { width: 10em; font-family: ui-monospace, monospace; }
#auth-panel summary { cursor: pointer; }
#auth-identity {
  max-height: 40vh; overflow: auto; margin: 4px 0; white-space: pre-wrap; word-break: break-all;
  font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
}
#auth-error { margin: 2px 0 0; color: var(--ap-error); }
#auth-error:empty { display: none; }
`;

  /** `el('label', {for: 'x'}, 'text', child)`: an element with attributes and children. */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  /** A control with its visible label. */
  function field(text, control) {
    return el('span', { class: 'ap-group' }, el('label', { for: control.id }, text), control);
  }

  function storedAdminToken() {
    try {
      return sessionStorage.getItem(ADMIN_STORAGE) || '';
    } catch {
      return '';
    }
  }

  function storeAdminToken(token) {
    try {
      if (token) sessionStorage.setItem(ADMIN_STORAGE, token);
      else sessionStorage.removeItem(ADMIN_STORAGE);
    } catch {
      // Storage may be off; the token then lasts until the page reloads.
    }
  }

  /** An API key is usable until its `expires` (epoch seconds); `null` never expires. */
  function keyIsValid(key, now) {
    return key.expires == null || now < key.expires;
  }

  /** The `/admin` routes answer 401 `{"message": "admin token required"}` without the token. */
  function needsAdminToken(result) {
    return (result.status === 401 || result.status === 403) &&
      result.json !== null && typeof result.json.message === 'string' &&
      /admin token/i.test(result.json.message);
  }

  /** The message of an error answer: `{"message"}`, AppSync's `{"errors"}`, or the status. */
  function messageOf(result) {
    const json = result.json;
    if (json && typeof json.message === 'string') return json.message;
    if (json && Array.isArray(json.errors) && json.errors[0] && json.errors[0].message) {
      return json.errors[0].message;
    }
    return `${result.status} ${result.text.slice(0, 200)}`.trim();
  }

  function start(root, initialHeaders, onHeaders) {
    let headers = initialHeaders || {};
    let config = null;
    /** Minted or pasted tokens, and what the server said of their expiry, by mode. */
    const tokens = {};
    const expiries = {};
    /** Only the latest identity request may render. */
    let identityRequest = 0;

    const ui = {
      mode: el('select', { id: 'auth-mode' }),
      apiKey: el('select', { id: 'auth-api-key' }),
      sub: el('input', { id: 'auth-sub', value: 'alice', autocomplete: 'off', spellcheck: 'false' }),
      username: el('input', {
        id: 'auth-username', placeholder: 'optional', autocomplete: 'off', spellcheck: 'false',
      }),
      groups: el('input', {
        id: 'auth-groups', placeholder: 'Admin, Editors', autocomplete: 'off', spellcheck: 'false',
      }),
      mint: el('button', { id: 'auth-mint', type: 'submit' }, 'Mint token'),
      token: el('input', {
        id: 'auth-token', placeholder: 'mint or paste a JWT', autocomplete: 'off', spellcheck: 'false',
      }),
      note: el('span', { id: 'auth-note' }),
      identitySummary: el('span', { id: 'auth-identity-summary', 'aria-live': 'polite' }, '…'),
      identity: el('pre', { id: 'auth-identity' }),
      error: el('p', { id: 'auth-error', role: 'alert' }),
      adminToken: el('input', {
        id: 'admin-token', type: 'password', autocomplete: 'off', value: storedAdminToken(),
      }),
    };
    const keyFields = el('span', { class: 'ap-contents', hidden: '' }, field('API key', ui.apiKey));
    // Enter in the user fields mints; the token field stays outside the form.
    const mintForm = el('form', { class: 'ap-contents' },
      field('User (sub)', ui.sub), field('Username', ui.username), field('Groups', ui.groups), ui.mint);
    const jwtFields = el('span', { class: 'ap-contents', hidden: '' }, mintForm, field('Token', ui.token));
    // Disabled until /admin/auth has answered.
    const controls = el('fieldset', { class: 'ap-contents', disabled: '', 'aria-label': 'Authorization mode' },
      field('Mode', ui.mode), keyFields, jwtFields);
    const adminForm = el('form', { class: 'ap-group', hidden: '' },
      field('Admin token', ui.adminToken), el('button', { type: 'submit' }, 'Use'));
    const details = el('details', { id: 'auth-identity-details' },
      el('summary', {}, 'Identity: ', ui.identitySummary), ui.identity);

    root.setAttribute('role', 'region');
    root.setAttribute('aria-label', 'Authorization');
    root.replaceChildren(
      el('style', {}, STYLE),
      el('div', { class: 'ap-bar' }, controls, ui.note, adminForm, details),
      ui.error);
    adminForm.hidden = !ui.adminToken.value;

    function showError(message) {
      ui.error.textContent = message;
    }

    /** Calls an admin route; resolves to {ok, status, json, text}, rejects only on network errors. */
    async function admin(method, path, extraHeaders, body) {
      const requestHeaders = { ...extraHeaders };
      const adminToken = ui.adminToken.value.trim();
      if (adminToken) requestHeaders[ADMIN_HEADER] = adminToken;
      if (body !== undefined) requestHeaders['content-type'] = 'application/json';
      const response = await fetch(path, {
        method,
        headers: requestHeaders,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
      const text = await response.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: `text` tells.
      }
      const result = { ok: response.ok, status: response.status, json, text };
      if (needsAdminToken(result)) {
        adminForm.hidden = false;
        ui.adminToken.focus();
      }
      return result;
    }

    function canMint(mode) {
      return config !== null && config.tokenProviders.includes(PROVIDERS[mode]);
    }

    /** The headers the selection yields, or null when it yields none yet. */
    function credentials(mode) {
      if (mode === 'API_KEY') return ui.apiKey.value ? { 'x-api-key': ui.apiKey.value } : null;
      if (PROVIDERS[mode]) return tokens[mode] ? { Authorization: tokens[mode] } : null;
      return null;
    }

    /**
     * Shows the fields of the selected mode and hands its headers to GraphiQL.
     * On the first call a mode without credentials yet (a JWT mode before a
     * token is minted) keeps the headers the server prefilled.
     */
    function applyMode(initial) {
      const mode = ui.mode.value;
      keyFields.hidden = mode !== 'API_KEY';
      jwtFields.hidden = !PROVIDERS[mode];
      ui.token.value = tokens[mode] || '';
      ui.token.title = expiries[mode] || '';
      ui.mint.disabled = !canMint(mode);
      ui.mint.title = ui.mint.disabled
        ? 'The server has no local issuer for this mode: paste a token instead'
        : `POST /admin/token for ${PROVIDERS[mode]}`;
      let note = NOTES[mode] || '';
      let next = credentials(mode);
      if (next === null && initial && Object.keys(headers).length > 0) {
        next = headers;
        note = PROVIDERS[mode]
          ? 'Until you mint or paste a token, GraphiQL sends the prefilled headers.'
          : `${note} For now GraphiQL sends the prefilled headers.`.trim();
      }
      ui.note.textContent = note;
      setHeaders(next || {});
    }

    function setHeaders(next) {
      if (JSON.stringify(next) !== JSON.stringify(headers)) {
        headers = next;
        onHeaders(next);
      }
      refreshIdentity();
    }

    async function refreshIdentity() {
      const request = ++identityRequest;
      ui.identitySummary.textContent = 'checking…';
      let result;
      try {
        result = await admin('GET', '/admin/identity', headers);
      } catch (error) {
        if (request === identityRequest) {
          ui.identitySummary.textContent = 'request failed';
          ui.identity.textContent = String(error);
        }
        return;
      }
      if (request !== identityRequest) return;
      ui.identity.textContent = result.json !== null ? JSON.stringify(result.json, null, 2) : result.text;
      const json = result.json || {};
      if (result.ok) {
        const who = json.identity && (json.identity.username || json.identity.sub);
        ui.identitySummary.textContent = (json.authType || json.mode || 'authorized') + (who ? ` · ${who}` : '');
      } else if (needsAdminToken(result)) {
        ui.identitySummary.textContent = 'admin token required';
      } else {
        const error = Array.isArray(json.errors) && json.errors[0];
        ui.identitySummary.textContent = `${result.status} ${(error && error.errorType) || messageOf(result)}`;
      }
    }

    function fillSelects() {
      ui.mode.replaceChildren(...config.modes.map((mode) => el('option', { value: mode }, mode)));
      ui.mode.value = config.modes.includes(config.defaultMode) ? config.defaultMode : config.modes[0] || '';
      const now = Date.now() / 1000;
      // Usable keys first, each group in the server's order; the first usable one is selected.
      const keys = config.apiKeys
        .map((key) => ({ key, valid: keyIsValid(key, now) }))
        .sort((a, b) => Number(b.valid) - Number(a.valid));
      ui.apiKey.replaceChildren(...keys.map(({ key, valid }) => el('option', { value: key.value },
        `${key.name ? key.name + ': ' : ''}${key.value}${valid ? '' : ' (expired)'}`)));
      if (keys.length > 0) ui.apiKey.value = keys[0].key.value;
    }

    async function loadConfig() {
      let result;
      try {
        result = await admin('GET', '/admin/auth');
      } catch (error) {
        showError(`GET /admin/auth: ${error}`);
        return;
      }
      if (!result.ok || result.json === null) {
        showError(`GET /admin/auth: ${messageOf(result)}`);
        return;
      }
      showError('');
      const json = result.json;
      config = {
        defaultMode: json.defaultMode,
        modes: Array.isArray(json.modes) ? json.modes : [],
        apiKeys: Array.isArray(json.apiKeys) ? json.apiKeys : [],
        tokenProviders: Array.isArray(json.tokenProviders) ? json.tokenProviders : [],
      };
      fillSelects();
      controls.disabled = false;
      applyMode(true);
    }

    async function mint(event) {
      event.preventDefault();
      const mode = ui.mode.value;
      const provider = PROVIDERS[mode];
      if (!provider || !canMint(mode)) return;
      const body = {
        provider,
        sub: ui.sub.value.trim() || 'alice',
        groups: ui.groups.value.split(',').map((group) => group.trim()).filter(Boolean),
        expiresIn: 3600,
      };
      const username = ui.username.value.trim();
      if (username) body.username = username;
      showError('');
      ui.mint.disabled = true;
      try {
        const result = await admin('POST', '/admin/token', {}, body);
        const token = result.json && result.json.token;
        if (!result.ok) {
          showError(`Mint token: ${messageOf(result)}`);
        } else if (typeof token !== 'string') {
          showError('Mint token: the answer has no token');
        } else {
          tokens[mode] = token;
          const expiresAt = result.json.expiresAt;
          expiries[mode] = typeof expiresAt === 'number'
            ? `Expires ${new Date(expiresAt * 1000).toLocaleString()}` : '';
          if (ui.mode.value === mode) applyMode(false);
        }
      } catch (error) {
        showError(`Mint token: ${error}`);
      } finally {
        ui.mint.disabled = !canMint(ui.mode.value);
      }
    }

    ui.mode.addEventListener('change', () => applyMode(false));
    ui.apiKey.addEventListener('change', () => applyMode(false));
    ui.token.addEventListener('change', () => {
      tokens[ui.mode.value] = ui.token.value.trim();
      expiries[ui.mode.value] = '';
      applyMode(false);
    });
    mintForm.addEventListener('submit', mint);
    adminForm.addEventListener('submit', (event) => {
      event.preventDefault();
      storeAdminToken(ui.adminToken.value.trim());
      if (config === null) loadConfig();
      else refreshIdentity();
    });

    loadConfig();
  }

  window.AppSyncLocalAuthPanel = { start };
})();
