/*
 * resolver.h - the GS1-Conformant Resolver (src/face/resolver.c): GS1
 * Digital Link paths of every primary key, and the resolver description
 * file. route.c names them.
 */
#ifndef SIGIL_RESOLVER_H
#define SIGIL_RESOLVER_H

struct http_call;

/* GET, HEAD, OPTIONS /01/{gtin}/..., /00/..., /414/..., ... */
void resolver_scan(struct http_call *c);
/* GET, HEAD, OPTIONS /.well-known/gs1resolver */
void resolver_description(struct http_call *c);

#endif
