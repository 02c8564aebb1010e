# Build: the executable jar and the modules it is made of, tests skipped (CI runs them). Maven
# reads every module's pom of the reactor, so all of them are copied; only the sources that go
# into the jar are.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY handler-api/pom.xml handler-api/pom.xml
COPY schema/pom.xml schema/pom.xml
COPY worker/pom.xml worker/pom.xml
COPY pipelines/video/pom.xml pipelines/video/pom.xml
COPY api-server/pom.xml api-server/pom.xml
COPY client/pom.xml client/pom.xml
COPY cli/pom.xml cli/pom.xml
COPY faults/pom.xml faults/pom.xml
COPY bench/pom.xml bench/pom.xml
COPY handler-api/src handler-api/src
COPY schema/src schema/src
COPY worker/src worker/src
COPY pipelines/video/src pipelines/video/src
COPY api-server/src api-server/src
COPY cli/src cli/src
RUN ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl cli -am package

# Run: a JRE, ffmpeg for the reference video pipeline, curl for health checks, a non-root user.
FROM eclipse-temurin:25-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin gaffer
WORKDIR /app
COPY --from=build /src/cli/target/gaffer.jar /app/gaffer.jar
# The same launcher as in a checkout, so a container gets the same JVM defaults (heap cap, serial
# collector: a worker needs about 130-200 MiB; give each container at least 320 MiB) and the same
# GAFFER_JAVA_OPTS to override them.
COPY gaffer /app/gaffer
ENV GAFFER_JAR=/app/gaffer.jar
# Users' handler jars: mount a folder here (compose mounts ./handlers); empty, it adds nothing.
RUN mkdir -p /app/handlers
ENV GAFFER_HANDLERS=/app/handlers
USER gaffer
EXPOSE 4000
ENTRYPOINT ["/app/gaffer"]
CMD ["--help"]
