/*
 * dashboard.h - the brand dashboard at /admin/: its static files, and
 * login with email and password into a session (session.h), logout and
 * "who am I". What the dashboard shows comes from the brand API.
 */
#ifndef SIGIL_DASHBOARD_H
#define SIGIL_DASHBOARD_H

struct http_call;

/*
 * Remembers web_dir/admin as the directory the static files come from
 * (resolved now, so a later chdir or symlink swap cannot move it). Call
 * once before serving. 0, SIGIL_ENOTFOUND (no such directory),
 * SIGIL_EINVAL (path too long).
 */
int dashboard_init(const char *web_dir);

/*
 * 1 when an Accept-Encoding value (NULL: none) accepts gzip: "gzip" or
 * "x-gzip", else "*", with a q other than 0. Static files are then sent
 * precompressed (NAME.gz) when there is such a file.
 */
int dashboard_accepts_gzip(const char *accept_encoding);

/* The handler behind the /admin prefix route. */
void dashboard_handle(struct http_call *c);

#endif
