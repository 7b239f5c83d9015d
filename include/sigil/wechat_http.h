/*
 * wechat_http.h - WeChat over HTTP (the face): the OAuth callback and the
 * profile step (src/face/wechat_oauth.c), the brand's configuration and
 * the mini-program login (src/face/wechat_api.c). The scan's detour
 * through WeChat's authorisation is http_scan.c's (http_scan_wechat).
 */
#ifndef SIGIL_WECHAT_HTTP_H
#define SIGIL_WECHAT_HTTP_H

struct api_call;
struct http_call;

/* GET /wx/oauth?to=PATH&code=CODE&state=STATE: WeChat sends the
 * consumer's browser back here. */
void wechat_oauth_back(struct http_call *c);
/* GET /wx/userinfo?back=PATH[&brand=NAME]: asks for nickname and avatar
 * (snsapi_userinfo), with the brand's leave and the customer's consent. */
void wechat_userinfo(struct http_call *c);
/* POST /api/v1/wechat/session {appid, code}: the mini-program's login. */
void wechat_session(struct http_call *c);

/* GET and PUT /api/v1/wechat (brand API, admin): the configuration. */
void api_wechat_get(struct api_call *a);
void api_wechat_put(struct api_call *a);

#endif
