package dev.eventline.broker;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.rabbitmq.client.Address;

/**
 * A broker URL, checked strictly before anything connects: {@code amqp://} or {@code amqps://}, a host, no
 * fragment, credentials percent-encoded. A URL that does not pass stops start-up with a message that names
 * the problem and never repeats the URL (it may hold the password): the java.net parser's own messages quote
 * their input, and a raw {@code @} or {@code #} in a password otherwise parses as "no host" and would connect
 * to localhost as guest.
 */
public final class BrokerUrl {

    private static final String HINT = "percent-encode special characters in the user name and password "
            + "(@ %40, # %23, / %2F, ? %3F, : %3A, ^ %5E, space %20, % %25)";

    private final URI uri;
    private final boolean tls;
    private final String redacted;

    private BrokerUrl(URI uri) {
        this.uri = uri;
        this.tls = "amqps".equals(uri.getScheme().toLowerCase(Locale.ROOT));
        this.redacted = uri.getScheme() + "://" + (uri.getRawUserInfo() == null ? "" : user(uri) + ":***@")
                + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    /** @throws IllegalArgumentException naming the problem, never the URL's secret parts */
    public static BrokerUrl parse(String url) {
        if (url == null || url.isBlank()) {
            throw invalid("it is empty");
        }
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw invalid(e.getReason() + " at character " + (e.getIndex() + 1) + "; " + HINT);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
            throw invalid("it must start with amqp:// or amqps://");
        }
        if (uri.getHost() == null) {
            throw invalid("no host could be read from it; " + HINT);
        }
        if (uri.getRawFragment() != null) {
            throw invalid("it has a '#' fragment; " + HINT);
        }
        String path = uri.getRawPath();
        if (path != null && path.length() > 1 && path.substring(1).contains("/")) {
            throw invalid("the vhost must be one path segment; encode '/' in a vhost name as %2F");
        }
        return new BrokerUrl(uri);
    }

    private static IllegalArgumentException invalid(String why) {
        return new IllegalArgumentException("rabbitmq.url (RABBITMQ_URL) is not a usable broker URL: " + why
                + ". Expected amqp://user:password@host:port/vhost (or amqps://)");
    }

    private static String user(URI uri) {
        String info = uri.getRawUserInfo();
        int colon = info.indexOf(':');
        return colon < 0 ? info : info.substring(0, colon);
    }

    URI uri() {
        return uri;
    }

    public boolean tls() {
        return tls;
    }

    /** @return the URL with the password replaced by {@code ***}, for logs */
    public String redacted() {
        return redacted;
    }

    /**
     * @param list {@code host:port,host:port} (port optional: the scheme's default), or null for the URL's host
     * @return the nodes to connect to
     */
    public List<Address> addresses(String list) {
        int defaultPort = uri.getPort() > 0 ? uri.getPort() : tls ? 5671 : 5672;
        if (list == null || list.isBlank()) {
            return List.of(new Address(uri.getHost(), defaultPort));
        }
        List<Address> addresses = new ArrayList<>();
        for (String item : list.split(",")) {
            String a = item.strip();
            if (a.isEmpty()) {
                continue;
            }
            Address parsed;
            try {
                parsed = Address.parseAddress(a);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("rabbitmq.addresses: '" + a + "' is not host:port");
            }
            addresses.add(parsed.getPort() > 0 ? parsed : new Address(parsed.getHost(), defaultPort));
        }
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("rabbitmq.addresses names no host: expected host:port,host:port");
        }
        return List.copyOf(addresses);
    }
}
