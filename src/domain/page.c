/*
 * page.c - the consumer landing page for GET /S/{code}.
 *
 * Owns the parsed template web/landing.html and the zh-CN/English strings.
 * page_init() reads the template once and cuts it into segments: literal
 * text, a value placeholder {{name}}, or a section {{#name}}...{{/name}}
 * (kept when name is non-empty) / {{^name}}...{{/name}} (kept when empty).
 * A section segment stores the index of its closing segment, so rendering
 * is one pass of evbuffer appends with jumps and no parsing: sigild renders
 * this for every scan. Any name the renderer does not know, an unclosed
 * tag or section, a template that is not UTF-8 or is over 64 KB makes
 * page_init() fail, so a typo in web/ stops start-up instead of showing a
 * consumer a broken page.
 *
 * Every value, including our own strings, goes through page_escape(): the
 * names come from brand-entered data and a code's page is what a
 * counterfeiter would most like to deface. Placeholders only ever sit in
 * HTML text or in double-quoted attributes (the template's script reads
 * data- attributes and never contains a value), so HTML escaping is the
 * only context needed. Invalid UTF-8, control characters and bidi
 * overrides (which could make "genuine" read backwards in a name) become
 * U+FFFD.
 *
 * The first scan's place is shown rounded to 0.1 degree (about 10 km): the
 * page is public to whoever holds the item, so it must not reveal where the
 * first buyer lives.
 *
 * The page's Content-Security-Policy is made here too: the template's
 * one inline script is allowed by its SHA-256, so that no other script
 * runs even if a value ever escaped escaping (page_csp).
 *
 * The template is immutable between page_init() and page_fini(), so any
 * number of threads may render at once. page.c calls page_escape.c,
 * page_content.c (the brand's blocks), util.c, libevent and OpenSSL's
 * SHA-256; it never touches the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sigil/page.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define PAGE_TEMPLATE_NAME	"landing.html"
#define PAGE_TEMPLATE_MAX	(64 * 1024)
#define PAGE_SECTION_DEPTH	8
#define PAGE_NAME_MAX		32
#define LANG_BYTES_MAX		1024
#define LANG_ENTRIES_MAX	32
#define LANG_STAR		2	/* rank slot for "*" */
#define ZH_OFFSET_SECONDS	(8 * 3600)	/* China Standard Time, no DST */

/* ---- the names a template may use ---- */

enum field {
	/* values computed from the page_view */
	F_LANG, F_VERDICT, F_VERDICT_TITLE, F_VERDICT_DETAIL, F_SCAN_INFO,
	F_DIVERSION, F_BOT, F_FIRST_SCAN, F_SHARE, F_SCAN_ID,
	F_HAS_PRODUCT, F_BRAND_NAME, F_PRODUCT_NAME, F_SKU, F_GTIN, F_BATCH,
	F_LOT, F_EXPIRES, F_SERIAL, F_SUPPORT_URL, F_SUPPORT_TITLE,
	F_HAS_FIRST, F_FIRST_TIME, F_FIRST_TIME_ISO, F_FIRST_PLACE,
	F_PREVIEW, F_CSP, F_REWARD, F_SCAN_TIME, F_CHECK_ID,
	F_FEEDBACK, F_FAKE,	/* issue 21: the feedback forms */
	F_CASH,			/* issue 22: a red packet on the card */
	/* blocks of HTML page_content.c renders, values escaped there */
	F_C_BRAND, F_C_STORY, F_C_TRACE, F_C_SUPPORT,
	/* fixed strings, one per language */
	T_TITLE,
	T_V_GENUINE, T_V_SUSPICIOUS, T_V_COUNTERFEIT, T_V_REVOKED, T_V_INACTIVE,
	T_V_UNVERIFIED, T_V_PRODUCT,
	T_D_GENUINE, T_D_SUSPICIOUS, T_D_COUNTERFEIT, T_D_REVOKED, T_D_INACTIVE,
	T_D_UNVERIFIED, T_D_PRODUCT, T_SUPPORT,
	T_DIVERSION, T_PRODUCT_H, T_BRAND, T_PRODUCT, T_SKU, T_GTIN, T_BATCH,
	T_LOT, T_EXPIRES, T_SERIAL, T_FIRST_H, T_FIRST_TIME, T_FIRST_PLACE,
	T_SHARE, T_SHARE_NOTE, T_SHARE_WAIT, T_SHARE_OK, T_SHARE_DENIED,
	T_SHARE_FAIL, T_REWARD_H, T_SCAN_ID,
	/* the reward part (the loyalty endpoints, driven by the script) */
	T_RW_OFFER, T_RW_BALANCE, T_RW_PHONE, T_RW_SEND, T_RW_SENT, T_RW_OTP,
	T_RW_LOGIN, T_RW_PIN, T_RW_CLAIM, T_RW_DONE, T_RW_PRIZE, T_RW_CLAIMED,
	T_RW_LOCKED, T_RW_FAIL, T_RW_MEMBER, T_RW_RESEND, T_RW_PIN_LEFT,
	T_RW_OTP_LEFT, T_RW_ERRORS, T_PV_H, T_PV_VER, T_PV_AGREE, T_PV_MKT,
	T_PV_PROF,
	/* sellers (issue 21): the seller's bind after a scan */
	T_SL_BIND, T_SL_DONE,
	/* cash rewards (issue 22): the amount won and where it stands */
	T_RW_CASH, T_RW_TAKE, T_RW_CASH_ERRORS,
	/* issue 21: the rating and the fake report (the script posts them) */
	T_FB_H, T_FB_TEXT, T_FB_SEND, T_FK_H,
	T_FK_INTRO, T_FK_WHERE, T_FK_TEXT, T_FK_PHOTO, T_FK_SEND, T_FK_OK,
	T_FK_ERRORS,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	[F_LANG] = "lang", [F_VERDICT] = "verdict",
	[F_VERDICT_TITLE] = "verdict_title",
	[F_VERDICT_DETAIL] = "verdict_detail", [F_SCAN_INFO] = "scan_info",
	[F_DIVERSION] = "diversion", [F_BOT] = "bot",
	[F_FIRST_SCAN] = "first_scan", [F_SHARE] = "share",
	[F_SCAN_ID] = "scan_id", [F_HAS_PRODUCT] = "has_product",
	[F_BRAND_NAME] = "brand_name", [F_PRODUCT_NAME] = "product_name",
	[F_SKU] = "sku", [F_GTIN] = "gtin", [F_BATCH] = "batch",
	[F_LOT] = "lot", [F_EXPIRES] = "expires", [F_SERIAL] = "serial",
	[F_SUPPORT_URL] = "support_url", [F_SUPPORT_TITLE] = "support_title",
	[F_HAS_FIRST] = "has_first", [F_FIRST_TIME] = "first_time",
	[F_FIRST_TIME_ISO] = "first_time_iso",
	[F_FIRST_PLACE] = "first_place",
	[F_PREVIEW] = "preview", [F_CSP] = "csp", [F_REWARD] = "reward",
	[F_SCAN_TIME] = "scan_time", [F_CHECK_ID] = "check_id",
	[F_FEEDBACK] = "feedback", [F_FAKE] = "fake", [F_CASH] = "cash",
	[F_C_BRAND] = "c_brand", [F_C_STORY] = "c_story",
	[F_C_TRACE] = "c_trace", [F_C_SUPPORT] = "c_support",
	[T_TITLE] = "t_title",
	[T_V_GENUINE] = "t_v_genuine", [T_V_SUSPICIOUS] = "t_v_suspicious",
	[T_V_COUNTERFEIT] = "t_v_counterfeit", [T_V_REVOKED] = "t_v_revoked",
	[T_V_INACTIVE] = "t_v_inactive", [T_V_UNVERIFIED] = "t_v_unverified",
	[T_V_PRODUCT] = "t_v_product",
	[T_D_GENUINE] = "t_d_genuine", [T_D_SUSPICIOUS] = "t_d_suspicious",
	[T_D_COUNTERFEIT] = "t_d_counterfeit", [T_D_REVOKED] = "t_d_revoked",
	[T_D_INACTIVE] = "t_d_inactive", [T_D_UNVERIFIED] = "t_d_unverified",
	[T_D_PRODUCT] = "t_d_product", [T_SUPPORT] = "t_support",
	[T_DIVERSION] = "t_diversion", [T_PRODUCT_H] = "t_product_h",
	[T_BRAND] = "t_brand", [T_PRODUCT] = "t_product", [T_SKU] = "t_sku",
	[T_GTIN] = "t_gtin", [T_BATCH] = "t_batch", [T_LOT] = "t_lot",
	[T_EXPIRES] = "t_expires", [T_SERIAL] = "t_serial",
	[T_FIRST_H] = "t_first_h", [T_FIRST_TIME] = "t_first_time",
	[T_FIRST_PLACE] = "t_first_place", [T_SHARE] = "t_share",
	[T_SHARE_NOTE] = "t_share_note", [T_SHARE_WAIT] = "t_share_wait",
	[T_SHARE_OK] = "t_share_ok", [T_SHARE_DENIED] = "t_share_denied",
	[T_SHARE_FAIL] = "t_share_fail", [T_REWARD_H] = "t_reward_h",
	[T_SCAN_ID] = "t_scan_id",
	[T_RW_OFFER] = "t_rw_offer", [T_RW_BALANCE] = "t_rw_balance",
	[T_RW_PHONE] = "t_rw_phone", [T_RW_SEND] = "t_rw_send",
	[T_RW_SENT] = "t_rw_sent", [T_RW_OTP] = "t_rw_otp",
	[T_RW_LOGIN] = "t_rw_login", [T_RW_PIN] = "t_rw_pin",
	[T_RW_CLAIM] = "t_rw_claim", [T_RW_DONE] = "t_rw_done",
	[T_RW_PRIZE] = "t_rw_prize", [T_RW_CLAIMED] = "t_rw_claimed",
	[T_RW_LOCKED] = "t_rw_locked", [T_RW_FAIL] = "t_rw_fail",
	[T_RW_MEMBER] = "t_rw_member", [T_RW_RESEND] = "t_rw_resend",
	[T_RW_PIN_LEFT] = "t_rw_pin_left", [T_RW_OTP_LEFT] = "t_rw_otp_left",
	[T_RW_ERRORS] = "t_rw_errors", [T_PV_H] = "t_pv_h",
	[T_PV_VER] = "t_pv_ver", [T_PV_AGREE] = "t_pv_agree",
	[T_PV_MKT] = "t_pv_mkt", [T_PV_PROF] = "t_pv_prof",
	[T_SL_BIND] = "t_sl_bind", [T_SL_DONE] = "t_sl_done",
	[T_RW_CASH] = "t_rw_cash", [T_RW_TAKE] = "t_rw_take",
	[T_RW_CASH_ERRORS] = "t_rw_cash_errors",
	[T_FB_H] = "t_fb_h", [T_FB_TEXT] = "t_fb_text",
	[T_FB_SEND] = "t_fb_send", [T_FK_H] = "t_fk_h",
	[T_FK_INTRO] = "t_fk_intro", [T_FK_WHERE] = "t_fk_where",
	[T_FK_TEXT] = "t_fk_text", [T_FK_PHOTO] = "t_fk_photo",
	[T_FK_SEND] = "t_fk_send", [T_FK_OK] = "t_fk_ok",
	[T_FK_ERRORS] = "t_fk_errors",
};

/* [T_x][lang]; indexed from T_TITLE. */
static const char *const strings[F_COUNT - T_TITLE][2] = {
	[T_TITLE - T_TITLE] = { "防伪查询", "Authenticity check" },
	[T_V_GENUINE - T_TITLE] = { "正品", "Genuine" },
	[T_V_SUSPICIOUS - T_TITLE] = { "可疑", "Suspicious" },
	[T_V_COUNTERFEIT - T_TITLE] = { "假冒", "Counterfeit" },
	[T_V_REVOKED - T_TITLE] = { "已作废", "Revoked" },
	[T_V_INACTIVE - T_TITLE] = { "未激活", "Not activated" },
	[T_V_UNVERIFIED - T_TITLE] = { "未验证", "Not verified" },
	[T_V_PRODUCT - T_TITLE] = { "产品信息", "Product information" },
	[T_D_GENUINE - T_TITLE] = {
	    "此码由品牌方签发，验证通过。",
	    "This code was issued by the brand and checks out." },
	[T_D_SUSPICIOUS - T_TITLE] = {
	    "此码被多次扫描或在相距很远的地点出现，可能被复制。"
	    "请向卖家或品牌方核实。",
	    "This code has been scanned many times or in places far apart "
	    "and may have been copied. Check with the seller or the brand." },
	[T_D_COUNTERFEIT - T_TITLE] = {
	    "此码不是品牌方签发的，商品可能是假冒产品。",
	    "This code was not issued by the brand. The item may be "
	    "counterfeit." },
	[T_D_REVOKED - T_TITLE] = {
	    "品牌方已作废此码，请联系品牌方核实。",
	    "The brand has revoked this code. Please check with the brand." },
	[T_D_INACTIVE - T_TITLE] = {
	    "此码尚未激活，商品可能未经正常渠道出货。",
	    "This code has not been activated; the item may not have left "
	    "the brand's normal channels." },
	[T_D_UNVERIFIED - T_TITLE] = {
	    "此链接缺少防伪签名（s= 部分），无法判断真伪，但这不代表是假货。"
	    "请用手机扫描商品上印的二维码本身，而不是手动输入或转发的链接，"
	    "即可完成验证。",
	    "This link lacks its security signature (the s= part), so it "
	    "cannot be checked; that does not mean the item is fake. To "
	    "check it, scan the QR code printed on the item itself rather "
	    "than a typed or forwarded link." },
	[T_D_PRODUCT - T_TITLE] = {
	    "此链接指向一款产品，而不是某一件商品。如需验证真伪，"
	    "请扫描商品上印的二维码。",
	    "This link names a product, not one item. To check whether an "
	    "item is genuine, scan the QR code printed on it." },
	[T_SUPPORT - T_TITLE] = { "联系品牌客服", "Contact the brand" },
	[T_DIVERSION - T_TITLE] = {
	    "此商品出现在其授权销售区域之外（疑似窜货）。",
	    "This item was found outside the sales region it was shipped "
	    "to (possible diversion)." },
	[T_PRODUCT_H - T_TITLE] = { "产品信息", "Product" },
	[T_BRAND - T_TITLE] = { "品牌", "Brand" },
	[T_PRODUCT - T_TITLE] = { "产品", "Product" },
	[T_SKU - T_TITLE] = { "型号", "SKU" },
	[T_GTIN - T_TITLE] = { "商品条码", "GTIN" },
	[T_BATCH - T_TITLE] = { "批次", "Batch" },
	[T_LOT - T_TITLE] = { "生产批号", "Lot" },
	[T_EXPIRES - T_TITLE] = { "有效期至", "Expires" },
	[T_SERIAL - T_TITLE] = { "序列号", "Serial" },
	[T_FIRST_H - T_TITLE] = { "首次查询", "First check" },
	[T_FIRST_TIME - T_TITLE] = { "时间", "Time" },
	[T_FIRST_PLACE - T_TITLE] = { "地点", "Place" },
	[T_SHARE - T_TITLE] = { "分享我的位置，帮助打假",
	    "Share my location to help fight fakes" },
	[T_SHARE_NOTE - T_TITLE] = {
	    "仅在您点击后获取一次位置，只用于防伪和防窜货核查。",
	    "Your location is read once, only after you tap, and used only "
	    "to check for fakes and diversion." },
	[T_SHARE_WAIT - T_TITLE] = { "正在获取位置…", "Getting your location…" },
	[T_SHARE_OK - T_TITLE] = { "谢谢！位置已提交。",
	    "Thank you! Your location was sent." },
	[T_SHARE_DENIED - T_TITLE] = { "未获得位置权限。",
	    "Location permission was not given." },
	[T_SHARE_FAIL - T_TITLE] = { "提交失败，请稍后重试。",
	    "Could not send it. Please try again later." },
	[T_REWARD_H - T_TITLE] = { "扫码积分", "Rewards" },
	[T_SCAN_ID - T_TITLE] = { "查询编号", "Check ID" },
	/* {n} is filled in by the script with a number it received. */
	[T_RW_OFFER - T_TITLE] = { "扫码可得 {n} 积分", "This code earns {n} points" },
	[T_RW_BALANCE - T_TITLE] = { "我的积分：{n}", "My points: {n}" },
	[T_RW_PHONE - T_TITLE] = { "手机号", "Phone number" },
	[T_RW_SEND - T_TITLE] = { "获取验证码", "Send me a code" },
	[T_RW_SENT - T_TITLE] = { "验证码已发送，5分钟内有效。",
	    "Code sent; it is valid for 5 minutes." },
	[T_RW_OTP - T_TITLE] = { "6位验证码", "6-digit code" },
	[T_RW_LOGIN - T_TITLE] = { "登录领取", "Log in to claim" },
	[T_RW_PIN - T_TITLE] = { "刮开涂层，输入8位暗码",
	    "Scratch the label and enter the 8-digit PIN" },
	[T_RW_CLAIM - T_TITLE] = { "领取积分", "Claim points" },
	[T_RW_DONE - T_TITLE] = { "已到账 {n} 积分！", "{n} points added!" },
	[T_RW_PRIZE - T_TITLE] = { "恭喜抽中：", "You won: " },
	[T_RW_CLAIMED - T_TITLE] = { "此码积分已被领取。",
	    "This code's points were already claimed." },
	[T_RW_LOCKED - T_TITLE] = { "暗码错误次数过多，积分已锁定。",
	    "Too many wrong PINs: this code's points are locked." },
	[T_RW_FAIL - T_TITLE] = { "操作失败", "That did not work" },
	[T_RW_MEMBER - T_TITLE] = { "我的积分与兑换", "My points and rewards" },
	[T_RW_RESEND - T_TITLE] = { "重新获取({n}s)", "Resend ({n} s)" },
	[T_RW_PIN_LEFT - T_TITLE] = { "暗码错误，还可尝试 {n} 次",
	    "Wrong PIN: {n} tries left" },
	[T_RW_OTP_LEFT - T_TITLE] = { "验证码错误，还可尝试 {n} 次",
	    "Wrong code: {n} tries left" },
	/*
	 * What the consumer reads for each error code the reward endpoints
	 * answer (docs/api.md), "code=text" joined by "|": the script never
	 * shows the server's own message, which is English. A code not
	 * listed reads as t_rw_fail; "net" is no answer at all.
	 */
	[T_RW_ERRORS - T_TITLE] = {
	    "bad_phone=请输入正确的手机号（6至15位数字）"
	    "|otp_too_soon=验证码刚刚发送，请稍后再获取"
	    "|otp_daily_limit=今天获取验证码的次数已达上限，请明天再试"
	    "|rate_limited=操作过于频繁，请稍后再试"
	    "|otp_invalid=请先获取验证码"
	    "|otp_wrong=验证码错误"
	    "|otp_expired=验证码已过期，请重新获取"
	    "|otp_locked=验证码错误次数过多，请稍后重新获取"
	    "|invalid=请检查输入的内容"
	    "|bad_code=无法识别此码|unknown_code=无法识别此码"
	    "|code_not_active=此码尚未激活"
	    "|login_required=请先用手机号登录"
	    "|role_not_registered=您的账号未登记为此身份"
	    "|scan_first=请先用本机扫描此码"
	    "|no_campaign=此码当前没有积分活动"
	    "|already_claimed=此码积分已被领取"
	    "|pin_required=请刮开涂层，输入暗码"
	    "|wrong_pin=暗码错误"
	    "|locked=暗码错误次数过多，积分已锁定"
	    "|customer_locked=您输错暗码的次数过多，请明天再试"
	    "|location_required=此活动限定地区：请先分享位置"
	    "|outside_region=您所在地区不参与此活动"
	    "|budget_exhausted=本活动积分已全部发放"
	    "|daily_cap=您今天的领取次数已达上限"
	    "|not_found=未找到此次查询，请重新扫码"
	    "|unavailable=服务繁忙，请稍后再试"
	    "|net=网络异常，请检查网络后重试"
	    "|notice_required=请先阅读并同意隐私说明"
	    "|notice_changed=隐私说明已更新，请重新阅读后再同意",
	    "bad_phone=Enter a phone number of 6 to 15 digits"
	    "|otp_too_soon=A code was just sent; please wait a moment"
	    "|otp_daily_limit=You asked for too many codes today; try "
	    "tomorrow"
	    "|rate_limited=Too many tries; please wait a moment"
	    "|otp_invalid=Ask for a code first"
	    "|otp_wrong=That code is not right"
	    "|otp_expired=That code has expired; ask for a new one"
	    "|otp_locked=Too many wrong codes; ask for a new one later"
	    "|invalid=Please check what you entered"
	    "|bad_code=This code is not recognised"
	    "|unknown_code=This code is not recognised"
	    "|code_not_active=This code is not activated"
	    "|login_required=Log in with your phone number first"
	    "|role_not_registered=Your account is not registered for this"
	    "|scan_first=Scan this code with this phone first"
	    "|no_campaign=No reward is running for this code"
	    "|already_claimed=This code's points were already claimed"
	    "|pin_required=Scratch the label and enter the PIN"
	    "|wrong_pin=Wrong PIN"
	    "|locked=Too many wrong PINs: this code's points are locked"
	    "|customer_locked=You entered too many wrong PINs; try tomorrow"
	    "|location_required=A regional reward: share your location first"
	    "|outside_region=This reward is not offered where you are"
	    "|budget_exhausted=This campaign's points are all given out"
	    "|daily_cap=You reached today's claim limit"
	    "|not_found=This check was not found; scan the code again"
	    "|unavailable=The service is busy; please try again"
	    "|net=No connection; check your network and try again"
	    "|notice_required=Agree to the privacy notice first"
	    "|notice_changed=The privacy notice changed: read it again" },
	/* The brand's privacy notice, shown before the phone is asked for
	 * (the script reads its text from GET /api/v1/privacy/notice). */
	[T_PV_H - T_TITLE] = { "隐私说明", "Privacy notice" },
	[T_PV_VER - T_TITLE] = { "版本 {n}", "Version {n}" },
	[T_PV_AGREE - T_TITLE] = {
	    "我已阅读并同意《隐私说明》（必选：登录和积分）",
	    "I agree to the privacy notice (required: login and points)" },
	[T_PV_MKT - T_TITLE] = { "接收品牌的优惠和活动消息（可选）",
	    "Offers and news from the brand (optional)" },
	[T_PV_PROF - T_TITLE] = { "允许品牌保存我的个人资料（可选，撤回即删除）",
	    "Keep my profile (optional; withdrawing deletes it)" },
	/* sellers (issue 21): shown to a logged-in seller only */
	[T_SL_BIND - T_TITLE] = { "开箱绑定到我的门店",
	    "Bind this to my store (unboxing)" },
	[T_SL_DONE - T_TITLE] = { "已绑定到我的门店", "Bound to my store" },
	/*
	 * Issue 22: a red packet, "|"-joined for its script: what goes
	 * before the amount in yuan, then the four states of GET
	 * /api/v1/me/payouts (paid, processing, confirm, returned); then
	 * the button of WeChat's confirm (shown in WeChat's browser alone:
	 * its JSAPI is there only).
	 */
	[T_RW_CASH - T_TITLE] = { "红包 ¥|已到账|处理中|待确认收款"
	    "|未到账，已退回", "Red packet ¥|Paid|Processing|Waiting for you "
	    "to accept|Not paid; returned" },
	[T_RW_TAKE - T_TITLE] = { "确认收款", "Accept the money" },
	/*
	 * The claim's cash refusals (cashclaim's words), on a red packet's
	 * page alone: appended to t_rw_errors there ({{#cash}}), so that a
	 * page without cash does not carry them.
	 */
	[T_RW_CASH_ERRORS - T_TITLE] = {
	    "wechat_required=红包发到微信零钱：请在微信中打开此码领取"
	    "|cool_down=新账号需稍候才能领红包，请稍后再试"
	    "|network_limit=此网络领红包过于频繁，请稍后再试"
	    "|cash_cap=今天的红包额度已用完，请明天再试",
	    "wechat_required=Red packets go to WeChat Pay: open this code "
	    "in WeChat"
	    "|cool_down=New accounts wait before red packets; try later"
	    "|network_limit=Too many red packets from this network; try "
	    "later"
	    "|cash_cap=You reached today's red packet limit; try tomorrow" },
	/* Issue 21: the feedback forms (POST /api/v1/feedback). */
	[T_FB_H - T_TITLE] = { "为这件商品打分", "Rate this item" },
	[T_FB_TEXT - T_TITLE] = { "说说您的体验（可选）",
	    "Tell us more (optional)" },
	[T_FB_SEND - T_TITLE] = { "提交评价", "Send rating" },
	[T_FK_H - T_TITLE] = { "举报假货", "Report a fake" },
	[T_FK_INTRO - T_TITLE] = {
	    "告诉品牌方您在哪里买到这件商品，帮助打假。",
	    "Tell the brand where you bought this item to help stop fakes." },
	[T_FK_WHERE - T_TITLE] = { "购买地点（店名、网店或地址）",
	    "Where you bought it (shop, web shop or address)" },
	[T_FK_TEXT - T_TITLE] = { "补充说明（可选）", "Anything else (optional)" },
	[T_FK_PHOTO - T_TITLE] = { "商品照片（可选，JPEG 或 PNG，不超过 2 MB）",
	    "A photo of the item (optional, JPEG or PNG, up to 2 MB)" },
	[T_FK_SEND - T_TITLE] = { "提交举报", "Send report" },
	[T_FK_OK - T_TITLE] = { "举报已提交，谢谢您！品牌方会尽快处理。",
	    "Report sent. Thank you! The brand will look into it." },
	/* As t_rw_errors: what the report's script says, by the error
	 * code of POST /api/v1/feedback or its own check; "fail" else. */
	[T_FK_ERRORS - T_TITLE] = {
	    "need_where=请填写购买地点"
	    "|too_large=照片须为不超过 2 MB 的 JPEG 或 PNG"
	    "|forbidden=请用扫码的手机提交"
	    "|fail=提交失败，请稍后重试",
	    "need_where=Say where you bought it"
	    "|too_large=The photo must be a JPEG or PNG of 2 MB or less"
	    "|forbidden=Send it from the phone that scanned the code"
	    "|fail=Could not send it. Please try again later." },
};

static const char *const verdict_keys[] = {
	[VERDICT_GENUINE] = "genuine", [VERDICT_SUSPICIOUS] = "suspicious",
	[VERDICT_COUNTERFEIT] = "counterfeit", [VERDICT_REVOKED] = "revoked",
	[VERDICT_INACTIVE] = "inactive", [VERDICT_UNVERIFIED] = "unverified",
	[PAGE_VIEW_PRODUCT] = "product",
};
#define VERDICT_COUNT	(int)(sizeof(verdict_keys) / sizeof(verdict_keys[0]))

/* ---- the parsed template ---- */

enum seg_kind { SEG_TEXT, SEG_VALUE, SEG_IF, SEG_UNLESS, SEG_END };

struct seg {
	uint8_t		kind;		/* enum seg_kind */
	uint8_t		field;		/* enum field, for VALUE/IF/UNLESS */
	uint32_t	off, len;	/* SEG_TEXT: bytes of tpl_text */
	uint32_t	end;		/* SEG_IF/UNLESS: index of its SEG_END */
};

/* label_plain[f][lang]: escaping strings[f][lang] changes nothing. */
static uint8_t		 label_plain[F_COUNT - T_TITLE][2];
static char		*tpl_text;
static size_t		 tpl_len;
static struct seg	*tpl_segs;
static size_t		 tpl_nsegs;
/* The policies the page goes out with (page_csp), and the one its own
 * <meta> repeats for a copy shown outside its response (srcdoc). */
#define CSP_MAX			512
static char		 csp_page[CSP_MAX], csp_preview[CSP_MAX];
static char		 csp_meta[CSP_MAX];
/* The <meta> of a red packet's page (issue 22): its script's hash too,
 * which the other pages' <meta> leave out (each hash is ~55 bytes of a
 * page that must stay under 20 KB). */
static char		 csp_meta_cash[CSP_MAX];

/* ---- template loading ---- */

static int
field_lookup(const char *name, size_t len)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == len &&
		    memcmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

/* The first "{{" or "}}" (pair c c) in s[0..n), or NULL. */
static const char *
find_pair(const char *s, size_t n, char c)
{
	const char *p;

	while (n >= 2 && (p = memchr(s, c, n - 1)) != NULL) {
		if (p[1] == c)
			return p;
		n -= (size_t)(p - s) + 1;
		s = p + 1;
	}
	return NULL;
}

static int
segs_push(struct seg **segs, size_t *n, size_t *cap, struct seg s)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct seg *ns = realloc(*segs, ncap * sizeof(*ns));

		if (ns == NULL)
			return SIGIL_ENOMEM;
		*segs = ns;
		*cap = ncap;
	}
	(*segs)[(*n)++] = s;
	return 0;
}

/*
 * Squeezes the template in place, once, at load: each line's leading
 * blanks and every line that is one whole comment (slash-star to
 * star-slash, of the scripts and the style) go. The page is sent to phones on slow
 * networks, and the source keeps its indentation and its comments.
 * Nothing in the template depends on a line's leading blanks (no <pre>,
 * no text area with text); CSP hashes are taken after this.
 */
static size_t
template_squeeze(char *text, size_t len)
{
	size_t r = 0, w = 0;

	while (r < len) {
		const char *nl = memchr(text + r, '\n', len - r);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len, b = r;
		size_t e = end;

		while (b < end && (text[b] == ' ' || text[b] == '\t'))
			b++;
		while (e > b && (text[e - 1] == '\n' || text[e - 1] == '\r' ||
		    text[e - 1] == ' ' || text[e - 1] == '\t'))
			e--;
		if (!(e - b >= 4 && memcmp(text + b, "/*", 2) == 0 &&
		    memcmp(text + e - 2, "*/", 2) == 0 &&
		    memmem(text + b + 2, e - b - 4, "*/", 2) == NULL)) {
			memmove(text + w, text + b, end - b);
			w += end - b;
		}
		r = end;
	}
	text[w] = '\0';
	return w;
}

/* Cuts text into segments; SIGIL_EINVAL on any template error. */
static int
template_parse(const char *text, size_t len, struct seg **out,
    size_t *out_n)
{
	struct seg *segs = NULL;
	size_t n = 0, cap = 0, pos = 0, depth = 0;
	size_t open[PAGE_SECTION_DEPTH];
	int err;

	while (pos < len) {
		const char *tag = find_pair(text + pos, len - pos, '{');
		size_t tag_off = tag ? (size_t)(tag - text) : len;
		const char *name, *close;
		size_t name_len;
		struct seg s = { 0 };
		int f;

		if (tag_off > pos) {
			s.kind = SEG_TEXT;
			s.off = (uint32_t)pos;
			s.len = (uint32_t)(tag_off - pos);
			if ((err = segs_push(&segs, &n, &cap, s)) != 0)
				goto fail;
		}
		if (tag == NULL)
			break;
		name = tag + 2;
		close = find_pair(name, len - (size_t)(name - text), '}');
		err = SIGIL_EINVAL;
		if (close == NULL)
			goto fail;
		memset(&s, 0, sizeof(s));
		s.kind = SEG_VALUE;
		if (*name == '#' || *name == '^' || *name == '/') {
			s.kind = *name == '#' ? SEG_IF :
			    *name == '^' ? SEG_UNLESS : SEG_END;
			name++;
		}
		name_len = (size_t)(close - name);
		if (name_len == 0 || name_len > PAGE_NAME_MAX ||
		    (f = field_lookup(name, name_len)) < 0)
			goto fail;
		s.field = (uint8_t)f;
		if (s.kind == SEG_IF || s.kind == SEG_UNLESS) {
			if (depth == PAGE_SECTION_DEPTH)
				goto fail;
			open[depth++] = n;
		} else if (s.kind == SEG_END) {
			if (depth == 0 || segs[open[depth - 1]].field != f)
				goto fail;
			segs[open[--depth]].end = (uint32_t)n;
		}
		if ((err = segs_push(&segs, &n, &cap, s)) != 0)
			goto fail;
		pos = (size_t)(close - text) + 2;
	}
	err = SIGIL_EINVAL;
	if (depth != 0)
		goto fail;
	*out = segs;
	*out_n = n;
	return 0;
fail:
	free(segs);
	return err;
}

static int
file_read(const char *path, char **out, size_t *out_len)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR ? SIGIL_ENOTFOUND :
		    SIGIL_EIO;
	err = SIGIL_EIO;
	if (fstat(fd, &sb) != 0)
		goto cleanup_fd;
	err = SIGIL_EINVAL;
	if (!S_ISREG(sb.st_mode) || sb.st_size > PAGE_TEMPLATE_MAX)
		goto cleanup_fd;
	err = SIGIL_ENOMEM;
	/* One byte spare, so a file that grew since fstat is caught. */
	if ((buf = malloc((size_t)sb.st_size + 2)) == NULL)
		goto cleanup_fd;
	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		err = SIGIL_EIO;
		if (r < 0)
			goto cleanup_buf;
		if (r == 0)
			break;
		got += (size_t)r;
		err = SIGIL_EINVAL;
		if (got > (size_t)sb.st_size)
			goto cleanup_buf;
	}
	buf[got] = '\0';
	close(fd);
	*out = buf;
	*out_len = got;
	return 0;
cleanup_buf:
	free(buf);
cleanup_fd:
	close(fd);
	return err;
}

/*
 * Marks the fixed strings that escaping leaves unchanged, so rendering
 * can append them without a second look. Checked, not assumed: a
 * translation that adds an apostrophe still gets escaped.
 */
static int
labels_check(void)
{
	struct evbuffer *b = evbuffer_new();
	int err = SIGIL_ENOMEM;

	if (b == NULL)
		return SIGIL_ENOMEM;
	for (int f = T_TITLE; f < F_COUNT; f++) {
		for (int lang = PAGE_LANG_ZH; lang <= PAGE_LANG_EN; lang++) {
			const char *str = strings[f - T_TITLE][lang];
			size_t len = strlen(str);

			evbuffer_drain(b, evbuffer_get_length(b));
			if (page_escape(b, str) != 0)
				goto cleanup;
			label_plain[f - T_TITLE][lang] =
			    evbuffer_get_length(b) == len &&
			    memcmp(evbuffer_pullup(b, -1), str, len) == 0;
		}
	}
	err = 0;
cleanup:
	evbuffer_free(b);
	return err;
}

/*
 * The CSP of a template: its one inline script allowed by SHA-256 and
 * nothing else, so that a script that got into a page some other way
 * (a bug in escaping) still does not run. The script must hold no
 * placeholder: its hash is the template's. SIGIL_EINVAL otherwise.
 */
static int
csp_build(const char *text, size_t len)
{
	static const char common[] = "default-src 'none'; style-src "
	    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
	    "base-uri 'none'; form-action 'self'";
	const char *open, *body, *close, *at = text;
	uint8_t md[SHA256_DIGEST_LENGTH];
	char src[200] = "'none'", plain[200] = "'none'";
	size_t used = 0, pused = 0;
	unsigned char b64[64];
	int cash;

	/*
	 * Every inline script, each hashed: the page's own and, since issue
	 * 21, the fake report's (in the {{#fake}} section: only the pages
	 * that show the form carry it). At most three.
	 */
	while ((open = memmem(at, len - (size_t)(at - text), "<script",
	    7)) != NULL) {
		if (strncmp(open, "<script>", 8) != 0)
			return SIGIL_EINVAL;
		body = open + 8;
		close = memmem(body, len - (size_t)(body - text), "</script>", 9);
		if (close == NULL || memmem(body, (size_t)(close - body), "{{",
		    2) != NULL || used + 56 >= sizeof src)
			return SIGIL_EINVAL;
		SHA256((const uint8_t *)body, (size_t)(close - body), md);
		EVP_EncodeBlock(b64, md, sizeof md);
		used += (size_t)snprintf(src + used, sizeof src - used,
		    "%s'sha256-%s'", used ? " " : "", b64);
		/* The red packet's script ({{#cash}}<script>): in the
		 * header's policy, and in the <meta> of its pages alone. */
		cash = open - text >= 9 && memcmp(open - 9, "{{#cash}}", 9) == 0;
		if (!cash)
			pused += (size_t)snprintf(plain + pused, sizeof plain -
			    pused, "%s'sha256-%s'", pused ? " " : "", b64);
		at = close + 9;
	}
	snprintf(csp_meta, sizeof csp_meta, "%s; script-src %s", common,
	    plain);
	snprintf(csp_meta_cash, sizeof csp_meta_cash, "%s; script-src %s",
	    common, src);
	snprintf(csp_page, sizeof csp_page, "%s; script-src %s; "
	    "frame-ancestors 'none'", common, src);
	snprintf(csp_preview, sizeof csp_preview, "%s; script-src %s; "
	    "frame-ancestors 'self'", common, src);
	return 0;
}

const char *
page_csp(int preview)
{
	return preview ? csp_preview : csp_page;
}

int
page_init(const char *web_dir)
{
	char path[4096];
	char *text = NULL;
	struct seg *segs = NULL;
	size_t len, nsegs;
	int err;

	if (web_dir == NULL || snprintf(path, sizeof(path), "%s/%s", web_dir,
	    PAGE_TEMPLATE_NAME) >= (int)sizeof(path))
		return SIGIL_EINVAL;
	if ((err = file_read(path, &text, &len)) != 0)
		return err;
	err = SIGIL_EINVAL;
	if (memchr(text, '\0', len) != NULL || !sigil_utf8_valid(text, len))
		goto cleanup;
	len = template_squeeze(text, len);
	if ((err = template_parse(text, len, &segs, &nsegs)) != 0)
		goto cleanup;
	if ((err = labels_check()) != 0 || (err = csp_build(text, len)) != 0)
		goto cleanup_segs;
	page_fini();
	tpl_text = text;
	tpl_len = len;
	tpl_segs = segs;
	tpl_nsegs = nsegs;
	return 0;
cleanup_segs:
	free(segs);
cleanup:
	free(text);
	return err;
}

void
page_fini(void)
{
	free(tpl_segs);
	free(tpl_text);
	tpl_segs = NULL;
	tpl_text = NULL;
	tpl_nsegs = 0;
	tpl_len = 0;
}

/* ---- Accept-Language ---- */

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
is_alpha(int c)
{
	c = ascii_lower(c);
	return c >= 'a' && c <= 'z';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parses one list element s[0..n): language-range *(OWS ";" OWS param).
 * Sets *lang to PAGE_LANG_ZH/EN, LANG_STAR or -1 (another language) and
 * *q (thousandths). -1 if the element is malformed. n > 0.
 */
static int
lang_entry_parse(const char *s, size_t n, int *lang, int *q)
{
	size_t i = 0, sub = 0;

	*q = 1000;
	*lang = -1;
	if (s[0] == '*') {
		*lang = LANG_STAR;
		i = 1;
	} else {
		/* 1*8ALPHA *("-" 1*8alphanum) */
		while (i < n && is_alpha(s[i]) && i < 8)
			i++;
		if (i == 0)
			return -1;
		if (i == 2 && ascii_lower(s[0]) == 'z' &&
		    ascii_lower(s[1]) == 'h')
			*lang = PAGE_LANG_ZH;
		else if (i == 2 && ascii_lower(s[0]) == 'e' &&
		    ascii_lower(s[1]) == 'n')
			*lang = PAGE_LANG_EN;
		while (i < n && s[i] == '-') {
			for (i++, sub = 0; i < n && is_alnum(s[i]) && sub < 8;
			    i++)
				sub++;
			if (sub == 0)
				return -1;
		}
	}
	while (i < n) {
		size_t name, eq, value, vend;

		while (i < n && is_ows(s[i]))
			i++;
		if (i == n)
			break;
		if (s[i] != ';')
			return -1;
		for (i++; i < n && is_ows(s[i]); i++)
			;
		for (name = i; i < n && s[i] != '=' && s[i] != ';' &&
		    !is_ows(s[i]); i++)
			;
		if (i == name || i == n || s[i] != '=')
			return -1;
		eq = i;
		for (value = ++i; i < n && s[i] != ';' && !is_ows(s[i]); i++)
			;
		vend = i;
		if (eq - name == 1 && ascii_lower(s[name]) == 'q') {
			if ((*q = sigil_qvalue_parse(s + value, vend - value)) < 0)
				return -1;
		} else if (vend == value) {
			return -1;
		}
	}
	return 0;
}

/* Where a language stands in the header: best q and the entry that set it. */
struct lang_rank {
	int	q;		/* thousandths; -1 while not mentioned */
	int	at;		/* index of the first entry with that q */
};

int
page_lang_pick(const char *accept_language)
{
	struct lang_rank rank[3] = { { -1, 0 }, { -1, 0 }, { -1, 0 } };
	size_t len, pos = 0;
	int entries = 0;

	if (accept_language == NULL)
		return PAGE_LANG_ZH;
	len = strnlen(accept_language, LANG_BYTES_MAX + 1);
	if (len > LANG_BYTES_MAX) {
		/* Drop the element the cut runs through: "en-US" cut to "e"
		 * would be a guess. */
		len = LANG_BYTES_MAX;
		while (len > 0 && accept_language[len] != ',')
			len--;
	}
	while (pos < len && entries < LANG_ENTRIES_MAX) {
		const char *comma = memchr(accept_language + pos, ',',
		    len - pos);
		size_t end = comma ? (size_t)(comma - accept_language) : len;
		size_t a = pos, b = end;
		int lang, q;

		pos = end + 1;
		while (a < b && is_ows(accept_language[a]))
			a++;
		while (b > a && is_ows(accept_language[b - 1]))
			b--;
		if (a == b)
			continue;	/* RFC 9110 5.6.1: empty list elements */
		entries++;
		if (lang_entry_parse(accept_language + a, b - a, &lang, &q) != 0 ||
		    lang < 0)
			continue;
		/* Strictly greater: on a tie the earlier entry keeps its place. */
		if (q > rank[lang].q) {
			rank[lang].q = q;
			rank[lang].at = entries;
		}
	}
	/* "*" stands for every language the header does not name (RFC 4647). */
	for (int l = PAGE_LANG_ZH; l <= PAGE_LANG_EN; l++)
		if (rank[l].q < 0)
			rank[l] = rank[LANG_STAR];
	if (rank[PAGE_LANG_ZH].q <= 0 && rank[PAGE_LANG_EN].q <= 0)
		/* Neither wanted: zh, unless only zh was refused outright. */
		return rank[PAGE_LANG_ZH].q == 0 && rank[PAGE_LANG_EN].q < 0 ?
		    PAGE_LANG_EN : PAGE_LANG_ZH;
	if (rank[PAGE_LANG_EN].q != rank[PAGE_LANG_ZH].q)
		return rank[PAGE_LANG_EN].q > rank[PAGE_LANG_ZH].q ?
		    PAGE_LANG_EN : PAGE_LANG_ZH;
	return rank[PAGE_LANG_EN].at < rank[PAGE_LANG_ZH].at ? PAGE_LANG_EN :
	    PAGE_LANG_ZH;
}

/* ---- rendering ---- */

/* Everything one render needs, formatted once before the segment pass. */
struct render {
	const struct page_view	*v;
	int			 lang;
	char			 scan_info[192];
	char			 first_time[64];
	char			 first_time_iso[SIGIL_TIME_LEN + 1];
	char			 first_place[64];
	char			 batch[24];
	char			 serial[24];
	char			 expires[40];
};

static int
str_present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* t (microseconds) shifted by offset seconds, as broken-down time. */
static int
time_split(int64_t t, int offset, struct tm *tm)
{
	time_t secs = (time_t)(t >= 0 ? t / 1000000 : (t - 999999) / 1000000);

	secs += offset;
	return gmtime_r(&secs, tm) != NULL ? 0 : -1;
}

/* "YYYY-MM-DD HH:MM": UTC+8 for zh, UTC (and saying so) for en. */
static void
time_format(int64_t t, int lang, char *buf, size_t size)
{
	struct tm tm;

	buf[0] = '\0';
	if (time_split(t, lang == PAGE_LANG_ZH ? ZH_OFFSET_SECONDS : 0,
	    &tm) != 0)
		return;
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d%s", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    lang == PAGE_LANG_ZH ? "" : " UTC");
}

/* Rounded to 0.1 degree on purpose: see the comment at the top. */
static void
place_format(double lat, double lng, int lang, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!isfinite(lat) || !isfinite(lng) || fabs(lat) > 90 ||
	    fabs(lng) > 180)
		return;
	if (lang == PAGE_LANG_ZH)
		snprintf(buf, size, "%s %.1f°，%s %.1f°",
		    lat < 0 ? "南纬" : "北纬", fabs(lat),
		    lng < 0 ? "西经" : "东经", fabs(lng));
	else
		snprintf(buf, size, "%.1f°%c, %.1f°%c", fabs(lat),
		    lat < 0 ? 'S' : 'N', fabs(lng), lng < 0 ? 'W' : 'E');
}

static void
scan_info_format(const struct render *r, char *buf, size_t size)
{
	const struct page_view *v = r->v;
	int zh = r->lang == PAGE_LANG_ZH;

	buf[0] = '\0';
	if (v->first_scan) {
		snprintf(buf, size, "%s", zh ? "首次查询：您是第一位查询此码的人" :
		    "First check: you are the first to check this code");
	} else if (v->scan_count > 0 && v->first_at != 0) {
		/* The time follows in its own <time> (the template's
		 * scan_time), which the page's script shows in the
		 * phone's own zone. */
		if (zh)
			snprintf(buf, size, "此码已被查询 %u 次，首次查询时间",
			    v->scan_count);
		else
			snprintf(buf, size, "Checked %u time%s, first at",
			    v->scan_count, v->scan_count == 1 ? "" : "s");
	} else if (v->scan_count > 0) {
		if (zh)
			snprintf(buf, size, "此码已被查询 %u 次", v->scan_count);
		else
			snprintf(buf, size, "Checked %u time%s", v->scan_count,
			    v->scan_count == 1 ? "" : "s");
	}
}

static void
render_prepare(struct render *r, const struct page_view *v, int lang)
{
	struct tm tm;

	memset(r, 0, sizeof(*r));
	r->v = v;
	r->lang = lang;
	if (v->first_at != 0) {
		time_format(v->first_at, lang, r->first_time,
		    sizeof(r->first_time));
		sigil_time_format(v->first_at, r->first_time_iso);
	}
	if (v->has_first_place)
		place_format(v->first_lat, v->first_lng, lang, r->first_place,
		    sizeof(r->first_place));
	if (v->batch_id != 0)
		snprintf(r->batch, sizeof(r->batch), "%llu",
		    (unsigned long long)v->batch_id);
	if (v->serial != 0)
		snprintf(r->serial, sizeof(r->serial), "%llu",
		    (unsigned long long)v->serial);
	if (v->expires != 0) {
		/* Expiry is a calendar date entered as UTC midnight. */
		if (time_split(v->expires, 0, &tm) == 0)
			snprintf(r->expires, sizeof(r->expires), "%04d-%02d-%02d",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	}
	scan_info_format(r, r->scan_info, sizeof(r->scan_info));
}

/* The text of field f for this render; NULL or "" means absent. */
static const char *
field_value(const struct render *r, int f)
{
	const struct page_view *v = r->v;

	if (f >= T_TITLE)
		return strings[f - T_TITLE][r->lang];
	switch (f) {
	case F_LANG:		return r->lang == PAGE_LANG_EN ? "en" : "zh-CN";
	case F_VERDICT:		return verdict_keys[v->verdict];
	case F_VERDICT_TITLE:
		return strings[T_V_GENUINE + v->verdict - T_TITLE][r->lang];
	case F_VERDICT_DETAIL:
		return strings[T_D_GENUINE + v->verdict - T_TITLE][r->lang];
	case F_SCAN_INFO:	return r->scan_info;
	case F_DIVERSION:	return v->diversion ? "1" : NULL;
	case F_BOT:		return v->bot ? "1" : NULL;
	case F_FIRST_SCAN:	return v->first_scan ? "1" : NULL;
	case F_SHARE:
		return !v->bot && str_present(v->scan_id) ? "1" : NULL;
	case F_SCAN_ID:		return v->scan_id;
	case F_CHECK_ID:	return v->check_id;
	case F_HAS_PRODUCT:
		return str_present(v->brand_name) ||
		    str_present(v->product_name) || str_present(v->sku) ||
		    str_present(v->gtin) || str_present(v->lot) ||
		    r->batch[0] || r->serial[0] || r->expires[0] ? "1" : NULL;
	case F_BRAND_NAME:
		return v->content != NULL && str_present(
		    v->content->display_name) ? v->content->display_name :
		    v->brand_name;
	case F_PRODUCT_NAME:	return v->product_name;
	case F_SKU:		return v->sku;
	case F_GTIN:		return v->gtin;
	case F_BATCH:		return r->batch;
	case F_LOT:		return v->lot;
	case F_EXPIRES:		return r->expires;
	case F_SERIAL:		return r->serial;
	case F_SUPPORT_URL:	return v->support_url;
	case F_SUPPORT_TITLE:	return v->support_title;
	case F_HAS_FIRST:
		/* The first check's time is in the banner already. */
		return !v->first_scan && r->first_place[0] ? "1" : NULL;
	case F_SCAN_TIME:
		return !v->first_scan && v->scan_count > 0 && r->first_time[0] ?
		    "1" : NULL;
	case F_REWARD:
		/* Never a reward on a code the brand did not issue, revoked,
		 * has not activated, or that could not be checked. */
		return v->reward && !v->bot && !v->preview &&
		    str_present(v->scan_id) && (v->verdict == VERDICT_GENUINE ||
		    v->verdict == VERDICT_SUSPICIOUS) ? "1" : NULL;
	case F_FEEDBACK:
		/*
		 * Issue 21: a rating after a genuine scan a person made; not
		 * beside a red packet (issue 22): its card and script and the
		 * rating's form together would pass the page's 20 KB.
		 */
		return !v->bot && !v->preview && str_present(v->scan_id) &&
		    v->verdict == VERDICT_GENUINE && field_value(r, F_CASH) ==
		    NULL ? "1" : NULL;
	case F_CASH:
		return v->cash && field_value(r, F_REWARD) != NULL ? "1" :
		    NULL;
	case F_FAKE:
		/*
		 * ... and a fake report after a forged code, or a copied one
		 * whose page has no reward card (the card and the report's
		 * script together would pass the page's 20 KB).
		 */
		return !v->bot && !v->preview && str_present(v->scan_id) &&
		    (v->verdict == VERDICT_COUNTERFEIT ||
		    (v->verdict == VERDICT_SUSPICIOUS &&
		    field_value(r, F_REWARD) == NULL)) ? "1" : NULL;
	case F_FIRST_TIME:	return r->first_time;
	case F_FIRST_TIME_ISO:	return r->first_time_iso;
	case F_FIRST_PLACE:	return r->first_place;
	case F_PREVIEW:		return v->preview ? "1" : NULL;
	case F_CSP:
		return field_value(r, F_CASH) != NULL ? csp_meta_cash :
		    csp_meta;
	}
	return NULL;
}

int
page_render(const struct page_view *v, int lang, struct evbuffer *out)
{
	struct render r;
	size_t i = 0;
	int err;

	if (tpl_segs == NULL)
		return SIGIL_ESTATE;
	if (v == NULL || v->verdict < 0 || v->verdict >= VERDICT_COUNT ||
	    (lang != PAGE_LANG_ZH && lang != PAGE_LANG_EN))
		return SIGIL_EINVAL;
	render_prepare(&r, v, lang);
	/* One contiguous chunk for the common page; values rarely add 2 KB. */
	if (evbuffer_expand(out, tpl_len + 2048) != 0)
		return SIGIL_ENOMEM;
	while (i < tpl_nsegs) {
		const struct seg *s = &tpl_segs[i];
		const char *val;

		switch (s->kind) {
		case SEG_TEXT:
			if (evbuffer_add(out, tpl_text + s->off, s->len) != 0)
				return SIGIL_ENOMEM;
			break;
		case SEG_VALUE:
			if (s->field >= F_C_BRAND && s->field <= F_C_SUPPORT) {
				if ((err = page_content_block(v, lang,
				    PAGE_BLOCK_BRAND + s->field - F_C_BRAND,
				    out)) != 0)
					return err;
			} else if (s->field >= T_TITLE &&
			    label_plain[s->field - T_TITLE][lang]) {
				val = strings[s->field - T_TITLE][lang];
				if (evbuffer_add(out, val, strlen(val)) != 0)
					return SIGIL_ENOMEM;
			} else if ((err = page_escape(out,
			    field_value(&r, s->field))) != 0) {
				return err;
			}
			break;
		case SEG_IF:
		case SEG_UNLESS:
			val = field_value(&r, s->field);
			if (str_present(val) != (s->kind == SEG_IF))
				i = s->end;	/* skip to the closing tag */
			break;
		case SEG_END:
			break;
		}
		i++;
	}
	return 0;
}
