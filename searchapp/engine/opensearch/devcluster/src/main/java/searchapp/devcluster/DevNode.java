package searchapp.devcluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch 2.19 node in this JVM, on 127.0.0.1, for searchapp's dev cluster.
 *
 * <p>Arguments (all {@code --key=value}):
 * <pre>
 *   --name=NODE                 node.name (required)
 *   --cluster=NAME              cluster.name (default searchapp-dev)
 *   --home=DIR                  path.home; data goes to DIR/data (required)
 *   --http-port=PORT            http.port (required)
 *   --transport-port=PORT       transport.port (required)
 *   --seed-ports=P1,P2,...      discovery.seed_hosts on 127.0.0.1 (default: none)
 *   --cluster-managers=N1,N2    cluster.initial_cluster_manager_nodes; "single" for
 *                               discovery.type single-node (default: this node alone)
 *   --watch-stdin               stop when standard input closes (the parent died)
 *   --log-level=LEVEL           root log level (default INFO)
 *   -Ekey=value                 any further node setting
 * </pre>
 *
 * <p>Runs until SIGTERM/SIGINT, or until stdin closes with {@code --watch-stdin};
 * then closes the node cleanly (Node.close) and exits. The security manager and
 * the bootstrap checks belong to OpenSearch's own launcher and do not apply here.
 */
public final class DevNode {

    /** Node's constructor taking classpath plugins is protected: this is how a launcher reaches it. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    private static final List<Class<? extends Plugin>> PLUGINS =
        List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class);

    private DevNode() {}

    public static void main(String[] args) throws Exception {
        // What OpenSearch's jvm.options set, before anything touches Log4j.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        System.setProperty("log4j2.formatMsgNoLookups", "true");

        Map<String, String> options = new LinkedHashMap<>();
        Settings.Builder extra = Settings.builder();
        boolean watchStdin = false;
        for (String arg : args) {
            if (arg.equals("--watch-stdin")) {
                watchStdin = true;
            } else if (arg.startsWith("-E") && arg.indexOf('=') > 2) {
                int eq = arg.indexOf('=');
                extra.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else if (arg.startsWith("--") && arg.indexOf('=') > 2) {
                int eq = arg.indexOf('=');
                options.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else {
                usage("unknown argument: " + arg);
            }
        }
        String name = required(options, "name");
        String cluster = options.getOrDefault("cluster", "searchapp-dev");
        Path home = Paths.get(required(options, "home")).toAbsolutePath();
        String httpPort = required(options, "http-port");
        String transportPort = required(options, "transport-port");
        String managers = options.getOrDefault("cluster-managers", name);

        configureLogging(Level.toLevel(options.getOrDefault("log-level", "INFO"), Level.INFO));
        Logger log = LogManager.getLogger(DevNode.class);

        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("logs"));

        Settings.Builder settings = Settings.builder()
            .put("cluster.name", cluster)
            .put("node.name", name)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (managers.equals("single")) {
            settings.put("discovery.type", "single-node");
        } else {
            List<String> seeds = new ArrayList<>();
            for (String port : splitList(options.getOrDefault("seed-ports", ""))) {
                seeds.add("127.0.0.1:" + port);
            }
            settings.putList("discovery.seed_hosts", seeds);
            settings.putList("cluster.initial_cluster_manager_nodes", splitList(managers));
        }
        settings.put(extra.build());

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings.build(), Collections.emptyMap(), home.resolve("config"), () -> name);
        Node node = new EmbeddedNode(environment, PLUGINS);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                log.info("devnode {} stopping", name);
                node.close();
                if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                    log.warn("devnode {} did not close within 20s", name);
                }
                log.info("devnode {} stopped", name);
            } catch (IOException | InterruptedException | RuntimeException e) {
                log.error("devnode " + name + ": error while stopping", e);
            } finally {
                stopped.countDown();
                LoggerContext context = (LoggerContext) LogManager.getContext(false);
                Configurator.shutdown(context);
            }
        }, "devnode-shutdown"));

        if (watchStdin) {
            Thread watcher = new Thread(() -> {
                try (InputStream in = System.in) {
                    byte[] buffer = new byte[256];
                    while (in.read(buffer) >= 0) {
                        // anything written is ignored: only the end of the stream counts
                    }
                } catch (IOException e) {
                    // a broken stdin is a gone parent too
                }
                log.info("devnode {}: standard input closed, stopping", name);
                System.exit(0);
            }, "devnode-stdin");
            watcher.setDaemon(true);
            watcher.start();
        }

        try {
            node.start();
        } catch (Exception | Error e) {
            log.error("devnode " + name + " failed to start", e);
            System.exit(1);
        }
        // A line the parent can wait for in the log (it checks the cluster's health anyway).
        log.info("devnode {} started: http://127.0.0.1:{} transport 127.0.0.1:{}", name, httpPort, transportPort);
        stopped.await();
    }

    private static void configureLogging(Level level) {
        ConfigurationBuilder<BuiltConfiguration> builder = ConfigurationBuilderFactory.newConfigurationBuilder();
        builder.setStatusLevel(Level.ERROR);
        builder.setConfigurationName("devnode");
        builder.add(builder.newAppender("console", "Console")
            .addAttribute("target", ConsoleAppender.Target.SYSTEM_OUT)
            .add(builder.newLayout("PatternLayout")
                .addAttribute("pattern", "[%d{ISO8601}][%-5p][%-25c{1.}] %marker%m%n")));
        builder.add(builder.newRootLogger(level).add(builder.newAppenderRef("console")));
        // Chatty at INFO and of no use for a dev cluster.
        builder.add(builder.newLogger("org.opensearch.deprecation", Level.ERROR));
        builder.add(builder.newLogger("org.opensearch.plugins.PluginsService", Level.WARN));
        builder.add(builder.newLogger("org.opensearch.gateway.DanglingIndicesState", Level.ERROR));
        Configurator.initialize(builder.build());
    }

    private static List<String> splitList(String value) {
        List<String> items = new ArrayList<>();
        for (String item : value.split(",")) {
            if (!item.isBlank()) {
                items.add(item.trim());
            }
        }
        return items;
    }

    private static String required(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null || value.isEmpty()) {
            usage("missing --" + key + "=...");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("devnode: " + problem);
        System.err.println("usage: DevNode --name=NODE --home=DIR --http-port=PORT --transport-port=PORT"
            + " [--cluster=NAME] [--seed-ports=P1,P2] [--cluster-managers=N1,N2|single]"
            + " [--watch-stdin] [--log-level=INFO] [-Ekey=value ...]");
        System.exit(2);
    }
}
