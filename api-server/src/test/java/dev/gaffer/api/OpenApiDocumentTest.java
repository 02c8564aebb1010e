package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document against the running app: the same routes both ways, and a structural
 * validation of the 3.1 document (required members, every $ref resolves, every operation has an
 * id and responses, path parameters are declared).
 */
class OpenApiDocumentTest {

    static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

    static TestApi api;
    static JsonNode doc;

    @BeforeAll
    static void start() {
        api = new TestApi("api_openapi");
        var r = api.get("/api/v3/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        doc = TestApi.json(r);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void everyRegisteredRouteIsDocumentedAndEveryDocumentedRouteExists() {
        Set<String> registered = new TreeSet<>();
        for (ApiServer.Route r : api.server.registeredRoutes()) {
            registered.add(r.method().toLowerCase() + " " + r.path());
        }
        Set<String> documented = new TreeSet<>();
        doc.get("paths")
                .properties()
                .forEach(p -> p.getValue().properties().forEach(op -> {
                    if (METHODS.contains(op.getKey())) {
                        documented.add(op.getKey() + " " + p.getKey());
                    }
                }));
        assertThat(registered).hasSizeGreaterThanOrEqualTo(17);
        assertThat(documented).isEqualTo(registered);
    }

    @Test
    void documentIsStructurallyValidOpenApi31() {
        assertThat(doc.get("openapi").asText()).startsWith("3.1.");
        assertThat(doc.at("/info/title").isTextual()).isTrue();
        assertThat(doc.at("/info/version").isTextual()).isTrue();
        List<String> problems = new ArrayList<>();
        Set<String> operationIds = new TreeSet<>();
        doc.get("paths").properties().forEach(p -> {
            String path = p.getKey();
            if (!path.startsWith("/")) {
                problems.add(path + ": does not start with /");
            }
            p.getValue().properties().forEach(o -> {
                String where = o.getKey() + " " + path;
                JsonNode op = o.getValue();
                if (!op.hasNonNull("operationId")
                        || !operationIds.add(op.get("operationId").asText())) {
                    problems.add(where + ": missing or duplicate operationId");
                }
                if (!op.has("responses") || op.get("responses").isEmpty()) {
                    problems.add(where + ": no responses");
                }
                op.path("responses").properties().forEach(rsp -> {
                    if (!rsp.getKey().matches("[1-5]\\d\\d|default")) {
                        problems.add(where + ": bad status " + rsp.getKey());
                    }
                    if (!resolve(rsp.getValue()).hasNonNull("description")) {
                        problems.add(where + " " + rsp.getKey() + ": response without description");
                    }
                });
                Set<String> declared = new TreeSet<>();
                op.path("parameters").forEach(param -> {
                    JsonNode pr = resolve(param);
                    if (!pr.hasNonNull("name") || !pr.hasNonNull("in")) {
                        problems.add(where + ": parameter without name/in");
                    }
                    if ("path".equals(pr.path("in").asText())) {
                        declared.add(pr.get("name").asText());
                        if (!pr.path("required").asBoolean()) {
                            problems.add(where + ": path parameter not required");
                        }
                    }
                });
                var m = java.util.regex.Pattern.compile("\\{(\\w+)}").matcher(path);
                Set<String> inPath = new TreeSet<>();
                while (m.find()) {
                    inPath.add(m.group(1));
                }
                if (!inPath.equals(declared)) {
                    problems.add(where + ": path parameters " + inPath + " but declared " + declared);
                }
            });
        });
        checkRefs(doc, problems);
        assertThat(problems).isEmpty();
    }

    @Test
    void docsPageRendersTheDocumentWithoutExternalScripts() {
        var r = api.get("/api/v3/docs", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(r.body()).contains("/api/v3/openapi.json").doesNotContain("<script src=");
    }

    private static JsonNode resolve(JsonNode node) {
        if (node.has("$ref")) {
            JsonNode target = doc.at(node.get("$ref").asText().substring(1));
            assertThat(target.isMissingNode()).as(node.get("$ref").asText()).isFalse();
            return target;
        }
        return node;
    }

    private static void checkRefs(JsonNode node, List<String> problems) {
        if (node.isObject()) {
            if (node.has("$ref")) {
                String ref = node.get("$ref").asText();
                if (!ref.startsWith("#/") || doc.at(ref.substring(1)).isMissingNode()) {
                    problems.add("unresolved $ref " + ref);
                }
            }
            node.forEach(child -> checkRefs(child, problems));
        } else if (node.isArray()) {
            node.forEach(child -> checkRefs(child, problems));
        }
    }
}
