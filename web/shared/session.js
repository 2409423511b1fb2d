// The signed-in session: tokens in memory, mirrored in sessionStorage so a reload keeps the tab
// signed in (and closing the tab forgets them). Tokens never go into URLs or localStorage.

const KEY = "ownat.session";
let current = load();

function load() {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function store(session) {
  current = session;
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** The current session ({accessToken, refreshToken, expiresAt, user}) or null. */
export function getSession() {
  return current;
}

/** Keeps a token pair from /auth/login or /auth/refresh (the user, if known, is kept). */
export function saveTokens(pair) {
  store({
    ...(current ?? {}),
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    // Refresh a little early so a request never leaves with a token about to expire.
    expiresAt: Date.now() + (pair.expires_in - 30) * 1000,
  });
}

export function saveUser(user) {
  if (current) store({ ...current, user });
}

export function clearSession() {
  store(null);
}
