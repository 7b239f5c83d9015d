/*
 * role.h - the three roles a brand's tokens and dashboard users hold
 * (enum token_role, store.h): their names, and what each may do. Shared
 * by the brand API, the dashboard and the CLI.
 */
#ifndef SIGIL_ROLE_H
#define SIGIL_ROLE_H

/* What a request needs of its caller's role. */
enum role_need {
	ROLE_NEED_READ,		/* any role */
	ROLE_NEED_OPERATE,	/* admin or operator */
	ROLE_NEED_ADMIN,	/* admin */
};

/* "admin", "operator", "analyst" to enum token_role; 0 if unknown. */
int role_parse(const char *s);
/* The name of an enum token_role; "none" for anything else. */
const char *role_name(int role);
/* 1 when role may do what need asks, else 0. */
int role_may(int role, int need);

#endif
