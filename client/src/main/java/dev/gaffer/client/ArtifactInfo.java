package dev.gaffer.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.Instant;

/** A file a job stored (its video, say); {@link GafferClient#download} fetches its bytes. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ArtifactInfo(
        String name, String contentType, long sizeBytes, String sha256, Instant createdAt, String downloadUrl) {}
