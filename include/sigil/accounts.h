/*
 * accounts.h - dashboard users and brand API tokens managed over the
 * brand API (/api/v1/users, /api/v1/tokens): list, disable, enable,
 * remove, passwords; token listing, creation and revocation. What a
 * token or a user is, and the rules on them, are token.h's and user.h's.
 */
#ifndef SIGIL_ACCOUNTS_H
#define SIGIL_ACCOUNTS_H

struct api_call;

/* 1 when the path is users... or tokens... (a reply was sent), else 0. */
int accounts_api_route(struct api_call *a);

#endif
