/*
 * wxpay_vec.h - known answers for test_wxpay.c, made once with python3
 * cryptography (another implementation than the one under test): a
 * throw-away RSA-2048 test key in PKCS#8, PKCS#1, public and encrypted
 * (passphrase "pw") PEM forms; its PKCS#1 v1.5 SHA-256 signatures of a
 * request (POST with a body, GET without) at ts 1700000000, nonce
 * 593BEC0C930BF1AFEB40B4A08C8FB242, and of an answer; and an
 * AEAD_AES_256_GCM resource under the APIv3 key
 * "0123456789abcdefghijklmnopqrstuv", nonce "fdasflkja484", associated
 * data "mch_payment". Never a real merchant key.
 */
static const char priv_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDStIdufAqTgJnP\n"
	"jpTF0GHeVVwipgnmrTc//aeeyw1n0vLZ9hj5joLRkpK/fKgpwYmDp+F7xoLNexKR\n"
	"fDbO4RQKD0dT59sRRiiYTIC4Hrh6o1MerbvxbbeC8dmcgTu6mRZy5x1gLPOhVwqq\n"
	"62mYEDWA5j+RJUhVvNko/1byyqhZndiQcYaeMKVOT8M90jo4Q0JCFFY2DTgTNqn2\n"
	"UpTRX+zVjrSFMDwWAl5QNTuNXGza0uVMuolAZT+4EqxNB9JxuKVytlZcNhp8gDON\n"
	"eMmS7jPU2d9SPBSqVRH8rY+N8P4JtWsdOQvE+32Ud+9L01L7M9K6QRbPIpSUDqy9\n"
	"VTj1DAFLAgMBAAECggEAAUEg40gAGh5fDAzJwZ8QI243ql8kWkgNYadQGv0TezBB\n"
	"e4m1tAVPWGcP0kMFj0YUhwD2BzId2jz8KyXlqk1NvLztjEgqQOE9jEvm95xQiy5e\n"
	"EtCEThd8oF4ckQwglRJPP2eKgGWUHRGdwc8SpbHxrO7x/EUQDVlJTloCzwGPh1pg\n"
	"m3Sm8EAD7LY5hk6Bh2UzdxV9XaLRTeho5D7X4hZILOciumWtlZX7wQqBbXqmVfas\n"
	"ErUyZ7yNxQ6TFsl7k13Ak8929OrCYJW9feCWyCktWnctdD30ZExIj/ELksg1UbFn\n"
	"yYT+3iq6wiL6pIASzgtka2A2w80P46a+GLn8HD/vkQKBgQD/G5f5fYK9DLpMUFeO\n"
	"MSezP9tEY5t53B3VsIkaZUyUHdJHEYBff943bMceyJD6T6SyWQWQsVrkIpxog3ES\n"
	"nlJqlAObbjUIT2VrBJFubClve8z3yEi+1KEfILbxUGNSXHMp/cqzkrgwoZF3QpJ/\n"
	"aFxJSm/WqIg2t9QjC6Ch0/NZsQKBgQDTcS4m8efcL/0yV2yQUP132253xIuXBw8e\n"
	"bDw3but6fxrTBWjLBp9//yUxcmZOYdbM5KhSKgX6u2akAFQiBCzbCKmyekY1fZ9F\n"
	"c07Pj1a/HVKByDu/9kj7WcKqKgNFKqanvztZgucp0wgTjW5WLOcywtb0P6ZFVYa0\n"
	"eOWUPdONuwKBgQDV66GpCOKU/RNL4yNIjVepLCcGVjCOI1KxWnPduoxYuBkYl0h6\n"
	"zJLfD0x6N926yQZmt9e+2bpKC+v0iCRNZI3f6XaM5AF8kneNIiuB2Rl17u6V6VF3\n"
	"FH53x8sg2DQxYG0CDVvo8WObBCEjTKPkSvL4Un8uFe0DVWuCZ8GvcjhiQQKBgQDH\n"
	"/sT9t1BtV8Lxa/nXI5QsW5TImlLCnr2xNAVdFYCMVE9mDDbL2s7hPc/LTn7wYuDO\n"
	"2vVPCkqvl7SFKX5q0nIvF6mTlM516AXPpjqEXvtZN/4DngbOEsGDZaqYU7bWJHqQ\n"
	"LnSPvR6z09VO0TbtMfnZbKvvSYkXCcepSrU0m6pP4wKBgB6nukAOPuS2WLf8xqhN\n"
	"zYY/sxu5Ra9yGPF34eYu7SKeP7kqrYHI7t6Ay+oIEwe46rJPWuTEoY0OdwoTOMr1\n"
	"IBypD9jOt+5OURVYNsGVTwlRp2pl964X1DReSMpQxAiyyNW6nLQ6WAiOjAiTjsoA\n"
	"YQOQao2daFEzgWruMlbzx6Gr\n"
	"-----END PRIVATE KEY-----\n";
static const char priv1_pem[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIIEpAIBAAKCAQEA0rSHbnwKk4CZz46UxdBh3lVcIqYJ5q03P/2nnssNZ9Ly2fYY\n"
	"+Y6C0ZKSv3yoKcGJg6fhe8aCzXsSkXw2zuEUCg9HU+fbEUYomEyAuB64eqNTHq27\n"
	"8W23gvHZnIE7upkWcucdYCzzoVcKqutpmBA1gOY/kSVIVbzZKP9W8sqoWZ3YkHGG\n"
	"njClTk/DPdI6OENCQhRWNg04Ezap9lKU0V/s1Y60hTA8FgJeUDU7jVxs2tLlTLqJ\n"
	"QGU/uBKsTQfScbilcrZWXDYafIAzjXjJku4z1NnfUjwUqlUR/K2PjfD+CbVrHTkL\n"
	"xPt9lHfvS9NS+zPSukEWzyKUlA6svVU49QwBSwIDAQABAoIBAAFBIONIABoeXwwM\n"
	"ycGfECNuN6pfJFpIDWGnUBr9E3swQXuJtbQFT1hnD9JDBY9GFIcA9gcyHdo8/Csl\n"
	"5apNTby87YxIKkDhPYxL5vecUIsuXhLQhE4XfKBeHJEMIJUSTz9nioBllB0RncHP\n"
	"EqWx8azu8fxFEA1ZSU5aAs8Bj4daYJt0pvBAA+y2OYZOgYdlM3cVfV2i0U3oaOQ+\n"
	"1+IWSCznIrplrZWV+8EKgW16plX2rBK1Mme8jcUOkxbJe5NdwJPPdvTqwmCVvX3g\n"
	"lsgpLVp3LXQ99GRMSI/xC5LINVGxZ8mE/t4qusIi+qSAEs4LZGtgNsPND+Omvhi5\n"
	"/Bw/75ECgYEA/xuX+X2CvQy6TFBXjjEnsz/bRGObedwd1bCJGmVMlB3SRxGAX3/e\n"
	"N2zHHsiQ+k+kslkFkLFa5CKcaINxEp5SapQDm241CE9lawSRbmwpb3vM98hIvtSh\n"
	"HyC28VBjUlxzKf3Ks5K4MKGRd0KSf2hcSUpv1qiINrfUIwugodPzWbECgYEA03Eu\n"
	"JvHn3C/9MldskFD9d9tud8SLlwcPHmw8N27ren8a0wVoywaff/8lMXJmTmHWzOSo\n"
	"UioF+rtmpABUIgQs2wipsnpGNX2fRXNOz49Wvx1Sgcg7v/ZI+1nCqioDRSqmp787\n"
	"WYLnKdMIE41uViznMsLW9D+mRVWGtHjllD3TjbsCgYEA1euhqQjilP0TS+MjSI1X\n"
	"qSwnBlYwjiNSsVpz3bqMWLgZGJdIesyS3w9MejfduskGZrfXvtm6Sgvr9IgkTWSN\n"
	"3+l2jOQBfJJ3jSIrgdkZde7ulelRdxR+d8fLINg0MWBtAg1b6PFjmwQhI0yj5Ery\n"
	"+FJ/LhXtA1VrgmfBr3I4YkECgYEAx/7E/bdQbVfC8Wv51yOULFuUyJpSwp69sTQF\n"
	"XRWAjFRPZgw2y9rO4T3Py05+8GLgztr1TwpKr5e0hSl+atJyLxepk5TOdegFz6Y6\n"
	"hF77WTf+A54GzhLBg2WqmFO21iR6kC50j70es9PVTtE27TH52Wyr70mJFwnHqUq1\n"
	"NJuqT+MCgYAep7pADj7ktli3/MaoTc2GP7MbuUWvchjxd+HmLu0inj+5Kq2ByO7e\n"
	"gMvqCBMHuOqyT1rkxKGNDncKEzjK9SAcqQ/YzrfuTlEVWDbBlU8JUadqZfeuF9Q0\n"
	"XkjKUMQIssjVupy0OlgIjowIk47KAGEDkGqNnWhRM4Fq7jJW88ehqw==\n"
	"-----END RSA PRIVATE KEY-----\n";
static const char pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0rSHbnwKk4CZz46UxdBh\n"
	"3lVcIqYJ5q03P/2nnssNZ9Ly2fYY+Y6C0ZKSv3yoKcGJg6fhe8aCzXsSkXw2zuEU\n"
	"Cg9HU+fbEUYomEyAuB64eqNTHq278W23gvHZnIE7upkWcucdYCzzoVcKqutpmBA1\n"
	"gOY/kSVIVbzZKP9W8sqoWZ3YkHGGnjClTk/DPdI6OENCQhRWNg04Ezap9lKU0V/s\n"
	"1Y60hTA8FgJeUDU7jVxs2tLlTLqJQGU/uBKsTQfScbilcrZWXDYafIAzjXjJku4z\n"
	"1NnfUjwUqlUR/K2PjfD+CbVrHTkLxPt9lHfvS9NS+zPSukEWzyKUlA6svVU49QwB\n"
	"SwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";
static const char enc_pem[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIIFNTBfBgkqhkiG9w0BBQ0wUjAxBgkqhkiG9w0BBQwwJAQQ6R2FSt1JbDU2DAq2\n"
	"5HqOYQICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEB1UnhGzweZ2wIPa\n"
	"H7KEoKsEggTQVbpQLCX+GuzW5/b53lUmmbVMqNxgKfALIJw5bnocUr6gxdmXHEan\n"
	"SmGq/fusgAn4E+YgTsyEbNnH9dU/PCtsN7BEieo7aurbWBOZj8ouggUBeNMnOgxU\n"
	"mUC7G+RehjkyS9pfl9OV+pZ1hYRBX5kqTaW/NQK077KzsLbBDu+C2NCSM7cox4O+\n"
	"N01MklmALEr0tnQi5w7ICZr+CSc0qkxK83GKqyXIfOLcxbCylbuAB+mNMom3beDj\n"
	"DPsQ6396WbobQc7fz4RHWKCBo7QTqHKaf1k/n2Zrm3jjNo65cWVWKN9l1ts22rsb\n"
	"NTHFzfZlGgLmmitIesklekHee7nGotxvWNYx29SsvbZgrcrbaihCkGYcDUWjhJCK\n"
	"s3+AbmlND9I7Kkm3kjODFr59wUHgEKGu25i27y/sBydoE1SqJq1UR/qXjy+uvpK5\n"
	"g/SR9vlDyy1+zgWMqLgm7HDC12OWH9+R0vqzce/d/rBCq/vyyO0up8WguZCPcrj9\n"
	"Qzy6FfYhKKm/y5pUn0fLRspAuS1kOwi8uvUnRqQR3+1zGLzl/14s/vqZhTQO1sPF\n"
	"RqgQrrJbFfL6u4nQM9Te98w52C2/ZCAvCmm0t9TRFTALuWH+Uph+chEE0OdPvHXx\n"
	"f2X7w2cFlbmsker36Gn+JMEFB5fm9Rndv0tRCz8F/NqarWVeYM0TyYyFWy6It3Uq\n"
	"vxj4RwtXH4Xd/Jn6LTkLfakJfG9KJsFAvkVqXKUayDCc+8e8th7rq9YAPNieLlWQ\n"
	"QmzLdBaDvHAM2CAj7liv2dAsmoWq8h8M6Z3TV3CCKUVHiz3bUkN6xDzmh49mMcMY\n"
	"VYQPGyhA7ls/qY4LcHV5Vtv9ZmVFjyF34E0lAIPdHfZu15ovIK6yLyUeBfSE5wm7\n"
	"QSl9fmEq1VKjMJV0BI643bDRL5//aOfxkKdCHzrBX31/iidNNfluI0zG3YhBZJuE\n"
	"vHo3ftRxm55Pf7NAogaUkcF7SkCkJTYy0Mvxt+SGkqEcSmJe3fZTyeKVPxvebkv2\n"
	"kAQt1CxAsd4lKTDABQCLH1YT7R3uJEi4GsvFYVs66aLbtNkJSHfcja/vrCd360Bq\n"
	"CTesX1f4VjqBgLYHNq2IO4XYZE/CyTRZbzFdZjn4MBQ/V/7hwQOLPIl937zoeHYQ\n"
	"fmVpvfjnKfWMRbCI3E06w8x/nNQT+Ij+Ial/EmVrGrjHOZMxFpVbr9YIEO8eYz90\n"
	"cMckHmJvgPY4SJXXq4DGX1lF0riVAKrRxiFtLU/rUbEXhsqPn1dOC0J2SLfrH5T8\n"
	"wxunv+TrI0LA6kpu5m6knlvkRfOSxtobkFwQf3atPtNs+OIeRICpEpSh2JNNMfMR\n"
	"H1Ergd44fHq9+A880/gOYi2x8CmTwpb/d0hHqVm+ohqSN2aDeyCTHDln1mGYUcRt\n"
	"yAAp3ERvEhetc7gGkh0IBYkIbwwcTi7puwf2YR4l8uf+OgHxodR++AjTw3Ug8vF2\n"
	"sr03fiZLPRcTd+b7litcWHFEs/2E/B7TcBpKPXYmpvromD8Z/5Yfqhj3jvt2QFqp\n"
	"GO5jVuU6mgbJKFrel0TJRSyt0DUPp5a84UKjhABrOQ6jXv+BUoqdSDjUXdBLNiBp\n"
	"peL738DeaVPflGb5hkHQFRRqx2wawyVOENNO0JG3DTDFx4/zjbwSx1M=\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";
static const char req_body[] = "{\"appid\":\"wx8888888888888888\",\"out_bill_no\":\"SG1C1\"}";
static const char req_sig[] = "L0J1sR6NKcMfYLAVH51WNyuKlabuh0qgcbbEpiWxBLJqKB0439mIvXEAnv/Hy6zSspWR/yfkpF0kC/UnMieoC86KcaJ4Dx2lurR4lBfXv/FIZkrSYfTFl0txQqBeY2Vb5mFuhDnh5eGc8epCwcELQ3QdKXKtBOryhfu3D+MQ5S0lxBa4U6IuBPoFTGLeO1ZfRlXyOOnZErpc9zz098ayteHaHfUw1lAV/Lo+myjZcQege+/Y33nK9a1VOLnQaDgvcSdFOIealpoBdQ2oLLMhPKmZTBwbtxry4/QOHyT1lQEBPZtwDplS8tGy56T/iLeoS2iCNZ0Ca/5h3uKp2NpcRg==";
static const char get_sig[] = "znNi2d3FE0iLCv+HCBS80mi+sL7C/Fz/fxaMs1dku+N6p2z0rX11ysaZrDUQ4KJq965XE5FSyfF4Q8yqQEQJZ4irDa0N9o0Qu11mW8H52sxKqQFYk+GxivTIfvJtwzrpDz7dPDipG+7gW4dLv51zSY4XMX1EkYJmVSaWsI5188QrptympXZy9kzhRLy59yCk+vVCWEGzr2E2z5inyHgXcx+Kxfl+NOwpNmkeGoSET09g4G+z2RPgHO/MEtyZu9HyBI9NJTIzGxykb5OPb4w29H+So3M258bdAAoTSPsXAYofVzM92mYNzEe9w06//0KGkaN8O2/5OdnglyE3mbyR5w==";
static const char ans_body[] = "{\"out_bill_no\":\"SG1C1\",\"state\":\"SUCCESS\"}";
static const char ans_sig[] = "v4viP2iFM7GGrgtjgpZy1+UWjMt3ij0ZpmaQ2aHrza0WtC4oPiTFUs8quwRrz93i8OX76CQcjOd6DuME/VJDdDZmboC0phw9TUaA1luvKEZz5PIQhU3Uhc2tp0KsaZMkQYMzmYDRRcI2PZ0pKgCiMWd/g2qJarpzZGzLiqZlQ6+jzoNF4W2zP351BHc5qQ7HErJpJ3xdJGt3+nvZ30AXoYciyXVQeNb94PsYJ3Jioj3tEosDZiVUQSKEEwfazOQZJVF7HnX2avfuUOCb4d5D4DGU2fj/po0knz9xeRzMd8myjLJKUEJnct6dU1i3qTJwIpmIP8JzMWikIu3vk6sezw==";
static const char gcm_plain[] = "{\"mchid\":\"1900001109\",\"out_bill_no\":\"SG1C1\",\"transfer_bill_no\":\"1330000071100999991182020050700019480001\",\"state\":\"SUCCESS\",\"transfer_amount\":388,\"openid\":\"o-MYE42l80oelYMDE34nYD456Xoy\",\"create_time\":\"2025-01-15T13:29:35+08:00\",\"update_time\":\"2025-01-15T13:30:00+08:00\"}";
static const char gcm_ct[] = "kdUy8AAEd+F97t+v/8pygRTtZHctC3RjNMxk3cLrGFArw2BrKbunTpr4tcrQFdCI9GCJygvEV/W3G7S3hqZNUCmzC2K16v6yVCVF2L8JPfEDbel8TwLEMle4fDHPYSswfQMvuMB0de1L874anuwMHcnWJxivwvUWXTHz2LCKYUBCRPpSOK+CXudekLj+1k3F9941vhyNodYsrNkW5GzvH/gLAe4IQ4fI/hDTRGwGJcKVCginEAlb5d1IhL2jDTJBz4cNr16n7E+ia+z1PnYajgB1Lu79AEF+1iHFfrvVYz2dWf1Ae5hv9TYb41tGp8GQA9luqLIbKq+gKkF/g0ooIDZ4dXAVla8H5ABi+dt7fPwCWTSSq/GrfavG6omvfw==";
