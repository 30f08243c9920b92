package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * The broker of {@code RABBITMQ_URL}, used as is and never reconfigured; its management API is
 * {@code RABBITMQ_MANAGEMENT_URL}, else {@code http://<host>:15672}, with the credentials of that URL, else those of
 * {@code RABBITMQ_URL}.
 */
final class ExternalBroker {

    private ExternalBroker() {
    }

    static TestBroker of(String url) {
        URI uri = parse(url);
        String[] credentials = Urls.credentials(uri.getRawUserInfo());
        String management = Support.env("RABBITMQ_MANAGEMENT_URL");
        if (management == null) {
            management = "http://" + uri.getHost() + ":15672";
        } else {
            management = Urls.stripTrailingSlash(management);
            String userInfo = URI.create(management).getRawUserInfo();
            if (userInfo != null) { // http://user:pass@host:port: use and strip those credentials
                credentials = Urls.credentials(userInfo);
                management = management.replace(userInfo + "@", "");
            }
        }
        log("RABBITMQ_URL is set: using the external broker " + Urls.redact(url) + " as is, management " + management);
        return new TestBroker(url, new ManagementApi(management, credentials[0], credentials[1]),
                "external broker from RABBITMQ_URL " + Urls.redact(url) + " (management " + management + ")", null);
    }

    private static URI parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("RABBITMQ_URL is not a URI: " + Urls.redact(url), e);
        }
        if (uri.getHost() == null || uri.getScheme() == null || !uri.getScheme().startsWith("amqp")) {
            throw new IllegalStateException("RABBITMQ_URL must look like amqp://user:pass@host:port/vhost, not "
                    + Urls.redact(url));
        }
        return uri;
    }
}
