package dev.eventline.testsupport;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Encoding, decoding and redacting of broker URLs. */
final class Urls {

    private Urls() {
    }

    /** Percent-encodes s for a URL's user info (a space as %20, not +). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Percent-encodes s for one segment of a URL path, {@code *} included. */
    static String encodePathSegment(String s) {
        return encode(s).replace("*", "%2A");
    }

    /** Percent-decodes s, keeping a + as is. */
    static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** {user, password} of a URL's raw user info ({@code user:pass}); guest/guest when there is none. */
    static String[] credentials(String rawUserInfo) {
        if (rawUserInfo == null || rawUserInfo.isEmpty()) {
            return new String[] {"guest", "guest"};
        }
        int colon = rawUserInfo.indexOf(':');
        String user = colon < 0 ? rawUserInfo : rawUserInfo.substring(0, colon);
        String password = colon < 0 ? "" : rawUserInfo.substring(colon + 1);
        return new String[] {decode(user), decode(password)};
    }

    static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The URL without its password. */
    static String redact(String url) {
        return url.replaceFirst("(//[^:/@]*:)[^@/]*@", "$1***@");
    }
}
