# Build: the whole Maven reactor, tests skipped (CI runs them); the result is one runnable jar.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY schema/pom.xml schema/pom.xml
COPY worker/pom.xml worker/pom.xml
COPY api-server/pom.xml api-server/pom.xml
COPY cli/pom.xml cli/pom.xml
COPY schema/src schema/src
COPY worker/src worker/src
COPY api-server/src api-server/src
COPY cli/src cli/src
RUN ./mvnw -B -q -DskipTests -Dspotless.check.skip=true package

# Run: a JRE, ffmpeg for the reference video pipeline, curl for health checks, a non-root user.
FROM eclipse-temurin:25-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin gaffer
WORKDIR /app
COPY --from=build /src/cli/target/gaffer.jar /app/gaffer.jar
USER gaffer
EXPOSE 4000
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/gaffer.jar"]
CMD ["--help"]
